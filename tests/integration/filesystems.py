"""Storage faults for a service's SQLite files: a filesystem that fills up, a read-only file.

Both need privileges that a test process may not have. A small filesystem is a tmpfs mounted
by root, or through `sudo --non-interactive` (as GitHub's runners allow); a file read-only for
the service is made immutable (`chattr +i`) when the tests run as root, whom permission bits do
not stop, and `chmod 444` otherwise. Each undoes itself however the test ends.
"""

import contextlib
import errno
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

FILL_CHUNK = b"\0" * 65536


def _as_root(argv: list[str]) -> list[str]:
    return argv if os.geteuid() == 0 else ["sudo", "--non-interactive", *argv]


#: What the tests that mount a small filesystem need.
MOUNT_NEEDS = "these tests need root, or sudo without a password, to mount a small tmpfs"
#: What the tests that make a file immutable (as root) need.
CHATTR_NEEDS = (
    "as root these tests make the file immutable with chattr +i, which needs the capability "
    "CAP_LINUX_IMMUTABLE and a filesystem with that flag under the test's temporary directory"
)


def _run(argv: list[str], needs: str) -> None:
    """Run argv; if it fails, say so with its error and what the tests need (needs)."""
    completed = subprocess.run(argv, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({completed.returncode}): {completed.stderr.strip()}; {needs}"
        )


@contextlib.contextmanager
def small_filesystem(directory: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of size_kib KiB mounted on directory, owned by this user; unmounted afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kib}k,mode=0755,uid={os.getuid()},gid={os.getgid()}"
    _run(_as_root(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)]), MOUNT_NEEDS)
    try:
        yield directory
    finally:
        # Lazy: a process the test failed to stop may still hold a file open in it.
        _run(_as_root(["umount", "--lazy", str(directory)]), MOUNT_NEEDS)


def fill(directory: Path, name: str = "filler") -> None:
    """Append zeros to a file in directory until its filesystem has no byte left."""
    with (directory / name).open("ab", buffering=0) as filler:
        try:
            while True:
                filler.write(FILL_CHUNK)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
        # The last chunk may have gone in part: write byte by byte until that fails too.
        with contextlib.suppress(OSError):
            while True:
                filler.write(b"\0")


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """path cannot be opened for writing by this user's processes until the block ends."""
    if os.geteuid() == 0:
        _run(["chattr", "+i", str(path)], CHATTR_NEEDS)
        undo = ["chattr", "-i", str(path)]
    else:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(0o444)
        undo = []
    try:
        yield
    finally:
        if undo:
            _run(undo, CHATTR_NEEDS)
        else:
            path.chmod(mode)
