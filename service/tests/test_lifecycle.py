"""A worker's start and stop: a failed start in one line; the stop signals, which readiness
learns of and which still stop the process."""

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hello_birthday.app import create_app
from hello_birthday.lifecycle import Lifespan
from hello_birthday.settings import Settings

# Listens, then sends itself the signal; prints only if the process survives it.
_SCRIPT = """
import os, signal, sys, time
from hello_birthday.lifecycle import ShutdownSignal
signal.signal(signal.{name}, signal.{before})
shutdown = ShutdownSignal()
shutdown.listen()
os.kill(os.getpid(), signal.{name})
time.sleep(0.5)
print("survived, shutdown set:", shutdown.is_set())
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_without_a_server_handler_still_stops_the_process(name: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(name=name, before="SIG_DFL")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == -getattr(signal, name), completed.stdout + completed.stderr


def test_an_ignored_stop_signal_stays_ignored_but_readiness_learns_of_it() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(name="SIGTERM", before="SIG_IGN")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert completed.stdout.strip() == "survived, shutdown set: True"


def run_lifespan(app: ASGIApp) -> list[Message]:
    """Drive the app through the ASGI lifespan protocol as uvicorn does; the messages it sent."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(incoming)

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    asyncio.run(run())
    return sent


def test_a_start_and_stop(tmp_path: Path) -> None:
    app = create_app(Settings(store_url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    assert run_lifespan(app) == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]


@pytest.mark.parametrize("kind", ["missing directory", "corrupt file"])
def test_a_store_that_cannot_open_fails_the_start_in_one_line_naming_it(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "no" / "such.db"
    if kind == "corrupt file":
        path = tmp_path / "corrupt.db"
        path.write_bytes(b"not a database\n" * 100)
    [failed] = run_lifespan(create_app(Settings(store_url=f"sqlite:///{path}")))
    assert failed["type"] == "lifespan.startup.failed"
    assert failed["message"].startswith(f"cannot start: cannot open SQLite database '{path}': ")
    assert "\n" not in failed["message"]


def test_an_unexpected_failure_is_one_line_too() -> None:
    @asynccontextmanager
    async def broken() -> AsyncIterator[None]:
        raise KeyError("a bug")
        yield

    async def unreachable(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not an http request")

    [failed] = run_lifespan(Lifespan(unreachable, broken))
    assert failed == {
        "type": "lifespan.startup.failed",
        "message": "cannot start: KeyError('a bug')",
    }
