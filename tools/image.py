"""`nox -s image`: build service/Dockerfile with buildah and smoke-test the container.

No Docker engine or registry is needed: the base image is made from Debian packages with
debootstrap (cached in .image-build/) and passed in as the Dockerfile's BASE_IMAGE; like the
official python images it has no bytecode. Every module of the venv and of the standard library
must have valid bytecode in the image. The container runs with `buildah run --isolation chroot`,
which shares this machine's network namespace, so the service listens on 127.0.0.1; as on ECS its
root filesystem is read-only and its /tmp is what the task definition's bind mount gives it
(`ecs_tmp`), and it keeps the default store (SQLite in its working directory, the /data volume).
The image must also have CA certificates for the DynamoDB store's TLS. Then: wait for /readyz,
run the smoke command with the service's URL, check the service process is not root, its root
filesystem is read-only and its user can write to /tmp, scrape its metrics port, stop it with
SIGTERM (a graceful shutdown must exit 0) and print the image's size.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.processes import ChildProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".image-build"
ROOTFS = CACHE / "bookworm-rootfs"
# "-nopyc": this base has no .pyc files (without_bytecode); the tag keeps a cached base built
# with them from being reused.
BASE_IMAGE = "localhost/hello-birthday-base:bookworm-nopyc"
IMAGE = "localhost/hello-birthday:local"
CONTAINER_LOG = CACHE / "container.log"
DEBIAN_PACKAGES = "python3,python3-venv,ca-certificates"
DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
READY_TIMEOUT_S = 30.0
READY_POLL_S = 0.3
STOP_TIMEOUT_S = 25.0  # HELLO_SHUTDOWN_TIMEOUT (20 s) plus a margin, like ECS's stopTimeout
TMP = "/tmp"  # noqa: S108 (the container's, as the task definition mounts it)
VENV_PYTHON = "/opt/venv/bin/python"  # service/Dockerfile's venv


def buildah(*args: str) -> str:
    """Run one buildah command and return its standard output."""
    done = subprocess.run(["buildah", *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


@contextmanager
def working_container(image: str) -> Iterator[str]:
    """A buildah working container of image, removed whatever happens."""
    container = buildah("from", image)
    try:
        yield container
    finally:
        buildah("rm", container)


def require_tools() -> None:
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"nox -s image needs {' and '.join(missing)}: apt-get install buildah debootstrap"
        )


def image_exists(name: str) -> bool:
    command = ["buildah", "inspect", "--type", "image", name]
    return subprocess.run(command, check=False, capture_output=True).returncode == 0


def make_rootfs() -> None:
    """Debootstrap a minimal Debian bookworm with python3 (3.11, as in the published base)."""
    done_marker = ROOTFS.with_suffix(".done")
    if done_marker.exists():
        return
    shutil.rmtree(ROOTFS, ignore_errors=True)
    ROOTFS.parent.mkdir(parents=True, exist_ok=True)
    print(f"debootstrap bookworm into {ROOTFS} (about a minute)", flush=True)
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={DEBIAN_PACKAGES}", "bookworm",
         str(ROOTFS), "http://deb.debian.org/debian"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    # apt's downloads and package lists are not part of a base image.
    for leftover in [
        *ROOTFS.glob("var/cache/apt/archives/*.deb"),
        *ROOTFS.glob("var/lib/apt/lists/*_*"),
    ]:
        leftover.unlink()
    # pip inside the build must trust what this machine trusts (e.g. a TLS-inspecting proxy's
    # CA); this only touches the local test base, never the published one.
    if HOST_CA_BUNDLE.exists():
        shutil.copyfile(HOST_CA_BUNDLE, ROOTFS / HOST_CA_BUNDLE.relative_to("/"))
        (ROOTFS / "etc/pip.conf").write_text(f"[global]\ncert = {HOST_CA_BUNDLE}\n")
    done_marker.touch()


def without_bytecode(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Leave out every .pyc, as the official python images delete theirs (Debian ships them):
    the local build must show whether the Dockerfile compiles the standard library itself."""
    return None if member.name.endswith(".pyc") else member


def import_base() -> None:
    """Turn the rootfs into the local base image (once; delete .image-build/ to redo it)."""
    if image_exists(BASE_IMAGE):
        return
    make_rootfs()
    archive = CACHE / "bookworm-rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(ROOTFS, arcname=".", filter=without_bytecode)
    try:
        with working_container("scratch") as container:
            buildah("add", container, str(archive), "/")
            buildah("config", "--env", f"PATH={DEBIAN_PATH}", "--cmd", "/bin/sh", container)
            buildah("commit", container, BASE_IMAGE)
    finally:
        archive.unlink()


def git_revision() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, check=False, capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else "local"


def build_image() -> None:
    subprocess.run(
        ["buildah", "bud", "--isolation", "chroot", "--format", "docker", "--layers",
         "--file", "service/Dockerfile", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
         "--build-arg", f"REVISION={git_revision()}", "--tag", IMAGE, "."],
        cwd=ROOT, check=True,
    )  # fmt: skip


@dataclass(frozen=True)
class ImageConfig:
    """What the smoke test needs from the image's configuration."""

    user: str
    entrypoint: list[str]
    volumes: list[str]
    size: str  # as buildah reports it, e.g. "227 MB"


def inspect_image() -> ImageConfig:
    config = json.loads(buildah("inspect", "--type", "image", IMAGE))["Docker"]["config"]
    size = json.loads(buildah("images", "--json", IMAGE))[0]["size"]
    volumes = sorted(config.get("Volumes") or {})
    return ImageConfig(config.get("User", ""), config["Entrypoint"], volumes, size)


def ecs_tmp(config: ImageConfig, rootfs: Path) -> str:
    """tmpfs options for the /tmp a Fargate task gets from its bind mount (the `tmp` volume of
    platform/fargate_service.py): root-owned with mode 0755, unless the image declares /tmp a
    VOLUME, whose owner and mode the mount then takes (the ECS developer guide, "Bind mounts"
    and "Bind mount examples")."""
    if TMP not in config.volumes:
        return "mode=0755,uid=0,gid=0"
    found = (rootfs / TMP.lstrip("/")).stat()
    return f"mode={found.st_mode & 0o7777:04o},uid={found.st_uid},gid={found.st_gid}"


#: Writes and removes a file in /tmp, as the tempfile module does for the service.
WRITE_TMP = "import tempfile; tempfile.TemporaryFile(dir='/tmp').write(b'probe')"


def tmp_write_error(pid: int, user: str) -> str:
    """Why `user` (uid:gid) cannot write to /tmp as the service process sees it ("" if it can)."""
    uid, _, gid = user.partition(":")
    probe = [
        "nsenter", "--target", str(pid), "--mount", "--root", "--wd",
        "--setgid", gid or uid, "--setuid", uid, "--", VENV_PYTHON, "-c", WRITE_TMP,
    ]  # fmt: skip
    done = subprocess.run(probe, check=False, capture_output=True, text=True)
    return "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1]


#: Prints the modules of the venv and of the standard library without valid bytecode: with a
#: read-only root filesystem and PYTHONDONTWRITEBYTECODE, each would be compiled again at every
#: start. importlib's own loader decides (a missing or stale .pyc); it calls source_to_code only
#: to compile. The base's site-packages are skipped: the venv does not see them.
UNCOMPILED_MODULES = """\
import importlib.machinery, pathlib, sys, sysconfig

class Compiles(Exception):
    pass

class Probe(importlib.machinery.SourceFileLoader):
    def source_to_code(self, *args, **kwargs):
        raise Compiles

stdlib = pathlib.Path(sysconfig.get_path('stdlib'))
for root in (pathlib.Path(sys.prefix), stdlib):
    for module in root.rglob('*.py'):
        if root == stdlib and 'site-packages' in module.parts:
            continue
        try:
            Probe('probe', str(module)).get_code('probe')
        except Compiles:
            print(module)
"""


#: Prints 1 when OpenSSL finds CA certificates: the DynamoDB store's TLS (aiohttp) trusts the
#: system's, which the official python bases install and a bare Debian would not have.
CA_CERTIFICATES = """\
import os, ssl
paths = ssl.get_default_verify_paths()
print(int(bool(paths.cafile or (paths.capath and os.listdir(paths.capath)))))
"""


def run_python(script: str) -> str:
    """What a Python script prints when run in a container of the image."""
    with working_container(IMAGE) as container:
        return buildah("run", "--isolation", "chroot", container, "--", "python3", "-c", script)


def uncompiled_modules() -> list[str]:
    """The image's Python modules that would be compiled at every start (none, when it is right)."""
    return run_python(UNCOMPILED_MODULES).splitlines()


def descendants(pid: int) -> list[int]:
    """Every process below pid, from /proc (buildah run forks the container's process)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def root_mount_options(pid: int) -> list[str]:
    """The mount options of a process's root filesystem, as the process sees it."""
    # mountinfo fields: id, parent, major:minor, root, mount point, options, ...
    mounts = [line.split() for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()]
    return [fields[5] for fields in mounts if fields[4] == "/"][-1].split(",")


def service_pid(runner: ChildProcess, program: str) -> int:
    """The service's own process: below buildah-chroot-runtime and buildah-chroot-exec."""
    for pid in descendants(runner.pid):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        names = [Path(arg).name for arg in args]
        if not names[0].startswith("buildah") and Path(program).name in names:
            return pid
    raise RuntimeError("the service process was not found under buildah run")


def process_uids(pid: int) -> list[int]:
    """Real, effective, saved and filesystem UIDs of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(uid) for uid in line.split()[1:]]
    raise RuntimeError(f"no Uid line for process {pid}")


#: `sh -c` script run by unshare in a mount namespace of its own: the container's root
#: filesystem ($0) becomes read-only before buildah runs ("$@" after $1), which has no
#: --read-only. The tmpfs on /tmp, with the options in $1, stands for the ECS task's scratch
#: volume (platform/fargate_service.py); the one on /run is for buildah, which creates and
#: deletes its /run/.containerenv there (and crashes when it cannot).
READ_ONLY_ROOT = (
    'tmp="$1"; shift; mount -o bind,ro "$0" "$0" && mount -t tmpfs -o mode=755 tmpfs "$0/run"'
    ' && mount -t tmpfs -o "$tmp" tmpfs "$0/tmp" && exec "$@"'
)


@contextmanager
def running_container(config: ImageConfig, port: int, metrics_port: int) -> Iterator[ChildProcess]:
    """The image's entrypoint, ready on 127.0.0.1:port (metrics on metrics_port), on a read-only
    root filesystem as on ECS, with the default store (SQLite in the working directory, the
    image's /data volume)."""
    command = [
        *config.entrypoint,
        *("--host", "127.0.0.1", "--port", str(port), "--metrics-port", str(metrics_port)),
    ]
    CONTAINER_LOG.parent.mkdir(parents=True, exist_ok=True)
    CONTAINER_LOG.unlink(missing_ok=True)
    print(f"container output: {CONTAINER_LOG}", flush=True)
    with working_container(IMAGE) as container:
        rootfs = buildah("mount", container)  # unmounted by `buildah rm`
        tmp = ecs_tmp(config, Path(rootfs))
        print(f"{TMP} as ECS mounts it: tmpfs {tmp}", flush=True)
        runner = ChildProcess(
            ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", READ_ONLY_ROOT,
             rootfs, tmp, "buildah", "run", "--isolation", "chroot", container, "--", *command],
            os.environ, CONTAINER_LOG,
        )  # fmt: skip
        try:
            runner.start_serving(
                f"http://127.0.0.1:{port}/readyz",
                timeout=READY_TIMEOUT_S,
                status=200,
                poll=READY_POLL_S,
            )
            yield runner
        finally:
            if not runner.exited():
                # A check failed before the graceful stop: kill everything below buildah run.
                for pid in descendants(runner.pid):
                    with suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                runner.stop()


def stop_gracefully(runner: ChildProcess, pid: int) -> int:
    """SIGTERM the service, as ECS does, and return the container's exit code."""
    os.kill(pid, signal.SIGTERM)
    return runner.wait(timeout=STOP_TIMEOUT_S)


def smoke_test(config: ImageConfig, smoke: list[str]) -> list[str]:
    """Run the container and every check; the list of failures is empty when all pass."""
    port, metrics_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    failures: list[str] = []
    with running_container(config, port, metrics_port) as runner:
        pid = service_pid(runner, config.entrypoint[0])
        uids = process_uids(pid)
        print(f"service process {pid} UIDs (real, effective, saved, fs): {uids}")
        if 0 in uids:
            failures.append(f"the service runs as root: {uids}")
        root_options = root_mount_options(pid)
        print(f"service root filesystem options: {','.join(root_options)}")
        if "ro" not in root_options:
            failures.append("the service's root filesystem is writable")
        error = tmp_write_error(pid, config.user)
        print(f"{TMP} writable by the service user {config.user}: {error or 'yes'}")
        if error:
            failures.append(f"the service user {config.user} cannot write to {TMP}: {error}")
        command = [part.replace("{url}", url) for part in smoke]
        print("smoke:", " ".join(command), flush=True)
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failures.append("the smoke command failed")
        # What the task's collector scrapes: the metrics listener on the loopback interface.
        failures += metrics_failures(metrics_port)
        exit_code = stop_gracefully(runner, pid)
        print(f"exit code after SIGTERM: {exit_code}")
        if exit_code != 0:
            failures.append(f"graceful shutdown exited {exit_code}")
    return failures


def metrics_failures(port: int) -> list[str]:
    """What the task's collector would find wrong when it scrapes the metrics port."""
    try:
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0)
    except httpx.TransportError as error:
        return [f"no metrics on port {port}: {error!r}"]
    print(f"metrics on port {port}: {scraped.status_code}")
    if scraped.status_code != 200 or "http_requests_total" not in scraped.text:
        return [f"no request metrics on port {port}: {scraped.status_code}"]
    return []


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.image", description=__doc__)
    parser.add_argument("smoke", nargs="+", help="smoke command; {url} is the service URL")
    args = parser.parse_args(argv)
    require_tools()
    import_base()
    build_image()
    config = inspect_image()
    print(f"image {IMAGE}: user {config.user!r}, entrypoint {config.entrypoint}")
    failures = [] if config.user not in ("", "0", "root", "0:0") else ["the image runs as root"]
    uncompiled = uncompiled_modules()
    print(f"modules without bytecode: {len(uncompiled)}")
    if uncompiled:
        failures.append(f"{len(uncompiled)} modules have no bytecode, e.g. {uncompiled[0]}")
    has_cas = run_python(CA_CERTIFICATES) == "1"
    print(f"CA certificates for TLS: {'found' if has_cas else 'none'}")
    if not has_cas:
        failures.append("no CA certificates: the DynamoDB store could not verify TLS")
    failures += smoke_test(config, args.smoke)
    print(f"image size: {config.size}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
