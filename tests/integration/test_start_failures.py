"""A service that cannot start exits non-zero with one line naming the cause, however many workers
it has, so that an orchestrator sees the failure; nonsense on the command line is exit 2."""

import re
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from hello_birthday.serving import OTHER_OPEN_FILES
from hello_birthday.settings import DEFAULT_MAX_CONNECTIONS
from tests.support.processes import ChildProcess, free_port
from tests.support.service_process import error_messages, service_argv, service_env

pytestmark = pytest.mark.timeout(120)

EXIT_SECONDS = 30.0
#: uvicorn's exit status for a server that could not start (uvicorn.config.STARTUP_FAILURE).
STARTUP_FAILURE = 3
#: argparse's exit status for a bad command line or setting.
USAGE_ERROR = 2


def run_to_exit(argv: list[str], env: Mapping[str, str], log_path: Path) -> tuple[int, str]:
    """Run the program until it exits by itself: its exit code and everything it wrote."""
    child = ChildProcess(argv, env, log_path)
    child.start()
    try:
        code = child.wait(EXIT_SECONDS)
    finally:
        child.stop()
    return code, child.output()


def causes(output: str) -> list[str]:
    """The lines that say why the start failed; no traceback anywhere."""
    assert "Traceback" not in output, output
    return [message for message in error_messages(output) if message.startswith("cannot start: ")]


def the_cause(output: str) -> str:
    """The one line that says why the start failed."""
    [cause] = causes(output)
    return cause


@pytest.fixture
def corrupt_database(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not an SQLite database, whatever its name says\n" * 200)
    return path


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("kind", ["missing directory", "corrupt file"])
def test_a_store_that_cannot_open_stops_the_start(
    tmp_path: Path, corrupt_database: Path, kind: str, workers: int
) -> None:
    path = (
        tmp_path / "no" / "such" / "dir" / "x.db"
        if kind == "missing directory"
        else corrupt_database
    )
    argv = service_argv(free_port(), free_port(), "--workers", str(workers))
    env = service_env({"HELLO_STORE": f"sqlite:///{path}"})
    code, output = run_to_exit(argv, env, tmp_path / "service.log")
    assert code == STARTUP_FAILURE, output
    assert str(path) in the_cause(output)


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize("which", ["api", "metrics"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_in_use_stops_the_start(
    tmp_path: Path, sqlite_store: dict[str, str], port_in_use: int, which: str, workers: int
) -> None:
    api, metrics = (port_in_use, free_port()) if which == "api" else (free_port(), port_in_use)
    argv = service_argv(api, metrics, "--workers", str(workers))
    code, output = run_to_exit(argv, service_env(sqlite_store), tmp_path / "service.log")
    assert code == STARTUP_FAILURE, output
    assert f"127.0.0.1:{port_in_use}" in the_cause(output)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_that_fails_its_start_stops_the_service(
    tmp_path: Path, corrupt_database: Path, workers: int
) -> None:
    """The parent's own check of the store is skipped (as when the file is damaged between that
    check and a worker's start): the worker's failure must still end the process, non-zero."""
    argv = [
        sys.executable,
        "-m",
        "tests.integration.unchecked_start",
        *("--port", str(free_port()), "--metrics-port", str(free_port())),
        *("--workers", str(workers)),
    ]
    env = service_env({"HELLO_STORE": f"sqlite:///{corrupt_database}"})
    code, output = run_to_exit(argv, env, tmp_path / "service.log")
    assert code == STARTUP_FAILURE, output
    # One line from each worker that failed: all of them may have started before the first
    # failure stops the service.
    reported = causes(output)
    assert 1 <= len(reported) <= workers, output
    assert all(str(corrupt_database) in cause for cause in reported), output


def test_too_few_open_files_for_the_connection_limit_stops_the_start(
    tmp_path: Path, sqlite_store: dict[str, str]
) -> None:
    """At the open-files limit new clients would be dropped without an answer: the process may
    not start where the connection limit cannot be reached first."""
    argv = ["prlimit", "--nofile=512:512", *service_argv(free_port(), free_port())]
    env = service_env({**sqlite_store, "HELLO_MAX_CONNECTIONS": "1000"})
    code, output = run_to_exit(argv, env, tmp_path / "service.log")
    assert code == STARTUP_FAILURE, output
    needed = 1000 + OTHER_OPEN_FILES
    assert f"HELLO_MAX_CONNECTIONS=1000 needs {needed} open files" in the_cause(output)


def test_the_soft_open_files_limit_is_raised_for_the_connection_limit(
    tmp_path: Path, sqlite_store: dict[str, str]
) -> None:
    port = free_port()
    argv = ["prlimit", "--nofile=512:4096", *service_argv(port, free_port(), "--workers", "2")]
    needed = DEFAULT_MAX_CONNECTIONS + OTHER_OPEN_FILES
    child = ChildProcess(argv, service_env(sqlite_store), tmp_path / "service.log")
    try:
        child.start_serving(f"http://127.0.0.1:{port}/readyz", timeout=EXIT_SECONDS, status=200)
        for pid in (child.pid, *(worker.pid for worker in psutil.Process(child.pid).children())):
            limits = Path(f"/proc/{pid}/limits").read_text()
            assert re.search(rf"Max open files\s+{needed}\s+4096\s", limits), limits
    finally:
        child.stop()


@pytest.mark.parametrize("option", ["--port", "--metrics-port"])
@pytest.mark.parametrize("value", ["-1", "65536", "99999", "http"])
def test_a_port_outside_0_to_65535_is_a_usage_error(
    tmp_path: Path, sqlite_store: dict[str, str], option: str, value: str
) -> None:
    argv = [*service_argv(free_port(), free_port()), option, value]
    code, output = run_to_exit(argv, service_env(sqlite_store), tmp_path / "service.log")
    assert code == USAGE_ERROR, output
    assert f"argument {option}: " in output


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HELLO_STORE_TIMEOUT", "1e-300"),
        ("HELLO_STORE_TIMEOUT", "nan"),
        ("HELLO_SHUTDOWN_TIMEOUT", "0"),
        ("HELLO_MAX_CONNECTIONS", "0"),
        ("HELLO_BACKLOG", "100000"),
    ],
)
def test_a_setting_outside_its_range_is_a_usage_error(
    tmp_path: Path, sqlite_store: dict[str, str], name: str, value: str
) -> None:
    argv = service_argv(free_port(), free_port())
    env = service_env({**sqlite_store, name: value})
    code, output = run_to_exit(argv, env, tmp_path / "service.log")
    assert code == USAGE_ERROR, output
    assert f"{name}={value!r}" in output
