"""Benchmark servers as real processes on loopback: start, time to ready, peak memory, stop."""

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

READY_POLL_SECONDS = 0.01
READY_DEADLINE_SECONDS = 30.0
STOP_GRACE_SECONDS = 30.0


class ServerFailedError(RuntimeError):
    """A benchmark server exited or never became ready."""


@dataclass(frozen=True)
class Server:
    """A running server: its process, its loopback port and how long it took to become ready."""

    name: str
    process: "subprocess.Popen[bytes]"
    port: int
    ready_seconds: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(
    name: str,
    argv_for_port: Callable[[int], list[str]],
    env: Mapping[str, str],
    log_path: Path,
    ready_path: str = "/readyz",
) -> Iterator[Server]:
    """Start a server, wait for its first 200 on ready_path, and stop it by PID whatever happens.

    Its output goes to log_path: a file keeps the access log on, as in production, without a pipe
    that nobody reads filling up and blocking the server.
    """
    port = free_port()
    with log_path.open("wb") as log:
        started = time.perf_counter()
        # A session of its own, so that a server which ignores SIGTERM can be killed with its
        # workers as one process group.
        process = subprocess.Popen(
            argv_for_port(port),
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(process, port, ready_path, log_path)
        yield Server(name, process, port, time.perf_counter() - started)
    finally:
        _stop(process)


def _wait_ready(
    process: "subprocess.Popen[bytes]", port: int, ready_path: str, log_path: Path
) -> None:
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailedError(f"exited with {process.returncode}:\n{_tail(log_path)}")
        if _answers_ok(port, ready_path):
            return
        time.sleep(READY_POLL_SECONDS)
    raise ServerFailedError(f"not ready after {READY_DEADLINE_SECONDS} s:\n{_tail(log_path)}")


def _answers_ok(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tail(log_path: Path, lines: int = 20) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def worker_pids(server: Server) -> list[int]:
    """The processes that serve requests: uvicorn's spawned workers, else the server itself.

    With --workers N uvicorn supervises N children started by multiprocessing's spawn; the
    supervisor and multiprocessing's resource tracker serve nothing and are left out.
    """
    children = psutil.Process(server.process.pid).children(recursive=True)
    workers = [child.pid for child in children if "spawn_main" in " ".join(child.cmdline())]
    return workers or [server.process.pid]


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise ServerFailedError(f"/proc/{pid}/status has no VmHWM line")
