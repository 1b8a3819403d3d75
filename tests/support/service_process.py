"""The real `hello-birthday` console script as a child process on free loopback ports."""

import json
import os
import signal
import sysconfig
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import httpx
import psutil

from .processes import ChildProcess, free_port

READY_SECONDS: Final = 30.0
#: Small, so the shutdown test waits seconds, not the default 20.
SHUTDOWN_TIMEOUT: Final = 5
#: Connections opened until two workers hold some.
MOST_CONNECTIONS: Final = 64


def service_argv(port: int, metrics_port: int, *options: str) -> list[str]:
    """The console script on loopback ports, then any further options."""
    script = Path(sysconfig.get_path("scripts")) / "hello-birthday"
    return [
        *(str(script), "--host", "127.0.0.1", "--port", str(port)),
        *("--metrics-port", str(metrics_port), *options),
    ]


def service_env(env: Mapping[str, str]) -> dict[str, str]:
    """This environment, the tests' settings, then env (its store) on top."""
    settings = {
        "HELLO_TIMEZONE": "UTC",
        "HELLO_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
        "HELLO_ACCESS_LOG": "true",
    }
    return {**os.environ, **settings, **env}


def json_lines(output: str) -> list[dict[str, Any]]:
    """The lines of a service's output that are JSON objects: its access log and log lines."""
    entries = []
    for line in output.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def error_messages(output: str, *, logger: str | None = None) -> list[str]:
    """The messages of a service's log lines at level error (only logger's, if given)."""
    return [
        str(entry.get("message"))
        for entry in json_lines(output)
        if entry.get("level") == "error" and (logger is None or entry.get("logger") == logger)
    ]


class ServiceProcess:
    """`hello-birthday` on loopback ports of its own, HELLO_TIMEZONE=UTC, env (its store) on top."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        argv = service_argv(self.port, self.metrics_port, "--workers", str(workers))
        self._child = ChildProcess(argv, service_env(env), log_path)

    @property
    def pid(self) -> int:
        """The process started: uvicorn's supervisor when there are several workers."""
        return self._child.pid

    def start(self, *, ready: bool = True) -> None:
        """Start it and wait for its first /readyz 200 (ready=False: /healthz, for a store that
        is meant to fail its readiness check)."""
        probe = "/readyz" if ready else "/healthz"
        self._child.start_serving(f"{self.url}{probe}", timeout=READY_SECONDS, status=200)

    @contextmanager
    def running(self) -> Iterator["ServiceProcess"]:
        """Started and ready for the block; stopped when it ends, however it ends."""
        try:
            self.start()
            yield self
        finally:
            self.stop()

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

    def one_client_per_worker(
        self, base_url: str, path: str, stack: ExitStack
    ) -> tuple[httpx.Client, httpx.Client]:
        """Kept-alive clients of base_url, one connection each, until two are served by
        different workers (the kernel hands each connection to either worker)."""
        port = urlsplit(base_url).port
        clients: dict[int, httpx.Client] = {}  # the first client of each worker
        for _ in range(MOST_CONNECTIONS):
            client = stack.enter_context(
                httpx.Client(
                    base_url=base_url, timeout=10.0, limits=httpx.Limits(max_connections=1)
                )
            )
            response = client.get(path)
            assert response.status_code == 200, f"{path}: {response.status_code}"
            client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
            clients.setdefault(self._worker_holding(port, client_port), client)
            if len(clients) == 2:
                first, second = clients.values()
                return first, second
        raise AssertionError(f"{MOST_CONNECTIONS} connections all went to one worker")

    def _worker_holding(self, port: int | None, client_port: int) -> int:
        """The worker process holding the connection from client_port to port."""
        for worker in psutil.Process(self.pid).children():
            for connection in worker.net_connections(kind="tcp"):
                if connection.laddr.port == port and connection.raddr[1:] == (client_port,):
                    return worker.pid
        raise AssertionError(f"no worker holds the connection from port {client_port}")

    def access_log(self) -> list[dict[str, Any]]:
        """The JSON lines of its output (the access log and any structured log lines)."""
        return json_lines(self.output())


class ServiceStarter(Protocol):
    """The start_service fixture: a ready service with env (its store), stopped after the test;
    ready=False waits for liveness only."""

    def __call__(
        self, env: Mapping[str, str], *, workers: int = 1, ready: bool = True
    ) -> ServiceProcess: ...
