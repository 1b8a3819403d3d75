"""Child processes the tests own: on a loopback port, logged to a file, stopped by their own PID."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

POLL_SECONDS = 0.05


def free_port() -> int:
    """A loopback port that nothing listens on right now (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, poll: float = POLL_SECONDS
) -> None:
    """Poll condition until it holds; fail with `what` once timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(poll)


class ChildProcess:
    """One program run as a child; start() may be called again after stop() (same argv, same log).

    Output goes to a file rather than a pipe: a pipe nobody reads would fill and block the child,
    and the file is there to read when a test fails.
    """

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        return self._running().pid

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError(f"{self.argv[0]} is already running")
        with self.log_path.open("ab") as log:
            # A session of its own: a child that must be killed goes with its workers, as a group.
            self._process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_serving(
        self,
        url: str,
        *,
        timeout: float,
        status: int | None = None,
        poll: float = POLL_SECONDS,
    ) -> None:
        """Start, then poll url until it answers (with status, if given); fail if the child dies."""
        self.start()

        def serving() -> bool:
            if self.exited():
                raise RuntimeError(f"{self.argv[0]} exited at start:\n{self.log_tail()}")
            try:
                answer = httpx.get(url, timeout=2.0)
            except httpx.TransportError:
                return False
            return status is None or answer.status_code == status

        wait_until(serving, timeout=timeout, what=f"{url} served by {self.argv[0]}", poll=poll)

    def exited(self) -> bool:
        return self._process is not None and self._process.poll() is not None

    def signal(self, signum: signal.Signals) -> None:
        os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int:
        """Wait for the child to exit by itself; its exit code (raises on timeout)."""
        return self._running().wait(timeout)

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after grace seconds; the exit code (None if it never ran)."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGCONT)  # a frozen child cannot act on SIGTERM
            self._process.terminate()
            try:
                self._process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        return self._process.returncode

    def output(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def _running(self) -> "subprocess.Popen[bytes]":
        if self._process is None:
            raise RuntimeError(f"{self.argv[0]} was never started")
        return self._process
