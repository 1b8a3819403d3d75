"""A number every process sharing one SQLite database reads for free and bumps after each write.

It lives in a file of its own beside the database, mapped into every process's memory: a read
is a load from memory, with no system call and no SQLite transaction. Workers compare it with
the number their cache was filled under, and empty the cache when it moved.
"""

import contextlib
import fcntl
import mmap
import os
import struct
from collections.abc import Iterator
from typing import Final

_NUMBER: Final = struct.Struct("<Q")


class SharedGeneration:
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            with self._locked():
                # Written, not just sized, so the block exists: storing into a mapped hole on a
                # full disk would kill the process with SIGBUS. Under the lock, and only when
                # new, so that a worker starting late cannot reset a number already bumped.
                if os.fstat(self._fd).st_size < _NUMBER.size:
                    os.pwrite(self._fd, _NUMBER.pack(0), 0)
            self._map = mmap.mmap(self._fd, _NUMBER.size)
        except OSError:
            os.close(self._fd)
            raise

    def read(self) -> int:
        number: int = _NUMBER.unpack_from(self._map)[0]
        return number

    def bump(self) -> None:
        """Move the number on; the lock makes concurrent bumps from several processes add up."""
        with self._locked():
            _NUMBER.pack_into(self._map, 0, self.read() + 1)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Held for a few instructions only, so blocking the event loop on it costs nothing.
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)
