"""The real `hello-birthday` console script as a child process on a free loopback port."""

import json
import os
import signal
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Protocol

from .processes import ChildProcess, free_port

READY_SECONDS: Final = 30.0
#: Small, so the shutdown test waits seconds, not the default 20.
SHUTDOWN_TIMEOUT: Final = 5


class Service:
    """`hello-birthday --host 127.0.0.1 --port PORT`, HELLO_TIMEZONE=UTC, env (its store) on top."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        script = Path(sysconfig.get_path("scripts")) / "hello-birthday"
        argv = [str(script), "--host", "127.0.0.1", "--port", str(self.port)]
        settings = {
            "HELLO_TIMEZONE": "UTC",
            "HELLO_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
            "HELLO_ACCESS_LOG": "true",
        }
        full_env = {**os.environ, **settings, **env}
        self._child = ChildProcess([*argv, "--workers", str(workers)], full_env, log_path)

    @property
    def pid(self) -> int:
        """The process started: uvicorn's supervisor when there are several workers."""
        return self._child.pid

    def start(self, *, ready: bool = True) -> None:
        """Start it and wait for its first /readyz 200 (ready=False: /healthz, for a store that
        is meant to fail its readiness check)."""
        probe = "/readyz" if ready else "/healthz"
        self._child.start_serving(f"{self.url}{probe}", timeout=READY_SECONDS, status=200)

    def terminate(self) -> None:
        """SIGTERM, as ECS sends it; see wait() for how it ends."""
        self.signal(signal.SIGTERM)

    def signal(self, signum: signal.Signals) -> None:
        self._child.signal(signum)

    def wait(self, timeout: float) -> int:
        return self._child.wait(timeout)

    def exited(self) -> bool:
        return self._child.exited()

    def stop(self) -> int | None:
        """SIGTERM and its shutdown grace, then SIGKILL; the exit code."""
        return self._child.stop(grace=SHUTDOWN_TIMEOUT + 5.0)

    def log_tail(self) -> str:
        return f"--- {self._child.log_path} ---\n{self._child.log_tail()}"

    def output(self) -> str:
        """Everything it wrote to stdout and stderr."""
        return self._child.output()

    def access_log(self) -> list[dict[str, Any]]:
        """The JSON lines of its output (the access log and any structured log lines)."""
        entries = []
        for line in self.output().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries


class ServiceStarter(Protocol):
    """The start_service fixture: a ready service with env (its store), stopped after the test;
    ready=False waits for liveness only."""

    def __call__(
        self, env: Mapping[str, str], *, workers: int = 1, ready: bool = True
    ) -> Service: ...
