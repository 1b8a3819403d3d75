"""The stop signals: readiness learns of them, and they still stop the process."""

import signal
import subprocess
import sys

import pytest

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
