"""Benchmark servers as real processes on loopback: start, time to ready, peak memory, stop."""

import compileall
import sysconfig
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.support.processes import ChildProcess, free_port

READY_POLL_SECONDS = 0.01
READY_DEADLINE_SECONDS = 30.0
STOP_GRACE_SECONDS = 30.0


def compile_bytecode(*sources: Path) -> None:
    """Compile this environment's modules and the given sources, as the image's build does.

    pip writes a .pyc for every module it installs, so the image's servers start from bytecode.
    uv does not by default, and with PYTHONDONTWRITEBYTECODE set (as on our machines) nothing
    would ever write one: every timed start would compile its imports from source again.
    """
    for directory in (Path(sysconfig.get_path("purelib")), *sources):
        if not compileall.compile_dir(directory, quiet=2, workers=0):
            raise RuntimeError(f"some modules under {directory} do not compile")


@dataclass(frozen=True)
class Server:
    """A running server: its process, its loopback port and how long it took to become ready."""

    name: str
    child: ChildProcess
    port: int
    ready_seconds: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def running(
    name: str,
    argv_for_port: Callable[[int], list[str]],
    env: Mapping[str, str],
    log_path: Path,
) -> Iterator[Server]:
    """Start a server, wait for its first 200 from /readyz, and stop it by PID whatever happens.

    Its output goes to log_path: a file keeps the access log on, as in production, without a pipe
    that nobody reads filling up and blocking the server.
    """
    port = free_port()
    child = ChildProcess(argv_for_port(port), env, log_path)
    started = time.perf_counter()
    try:
        child.start_serving(
            f"http://127.0.0.1:{port}/readyz",
            timeout=READY_DEADLINE_SECONDS,
            status=200,
            poll=READY_POLL_SECONDS,
        )
        yield Server(name, child, port, time.perf_counter() - started)
    finally:
        child.stop(grace=STOP_GRACE_SECONDS)


def listen(port: int, workers: int = 1) -> list[str]:
    """A server's options: on loopback, and its metrics on any free port (rows run side by side)."""
    return [
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--metrics-port", "0"),
    ]


def worker_pids(server: Server) -> list[int]:
    """The processes that serve requests: uvicorn's spawned workers, else the server itself.

    With --workers N uvicorn supervises N children started by multiprocessing's spawn; the
    supervisor and multiprocessing's resource tracker serve nothing and are left out.
    """
    children = psutil.Process(server.child.pid).children(recursive=True)
    workers = [child.pid for child in children if "spawn_main" in " ".join(child.cmdline())]
    return workers or [server.child.pid]


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")
