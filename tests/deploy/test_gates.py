"""A gate that hangs is stopped, with everything it started, and fails."""

import time
from pathlib import Path

import psutil
import pytest
from deploy import gates
from deploy.gates import GateError, Gates
from deploy.paths import ROOT
from servers import silent_server

TIMEOUT = 3.0
# Ample for a killed process to end on a busy machine; a surviving one sleeps for 60 s.
KILL_DELIVERY_SECONDS = 10.0
# Stands in for the gate's interpreter: starts a grandchild of the deploy program, writes its
# PID to the file named here, then hangs (as locust's workers would under a hung load gate).
HANGING_GATE = """#!/bin/sh
sleep 60 &
echo $! > {pid_file}
sleep 60
"""


def test_a_hung_smoke_gate_is_stopped_and_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # The smoke suite's own client waits 10 s for an answer; the gate gives up first.
    monkeypatch.setattr(gates, "SMOKE_TIMEOUT_SECONDS", TIMEOUT)

    with (
        silent_server() as url,
        pytest.raises(GateError, match=f"still running after {TIMEOUT:g} s"),
    ):
        Gates(ROOT, None).smoke(url)

    gate_processes = [
        child
        for child in psutil.Process().children(recursive=True)
        if "tests/integration/test_api.py" in child.cmdline()
    ]
    assert gate_processes == []


def test_a_hung_gate_is_stopped_with_the_processes_it_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(gates, "SMOKE_TIMEOUT_SECONDS", TIMEOUT)
    pid_file = tmp_path / "grandchild.pid"
    interpreter = tmp_path / "hanging-gate"
    interpreter.write_text(HANGING_GATE.format(pid_file=pid_file))
    interpreter.chmod(0o755)

    with pytest.raises(GateError, match=f"still running after {TIMEOUT:g} s"):
        Gates(ROOT, None, python=str(interpreter)).smoke("http://127.0.0.1:9")

    grandchild = int(pid_file.read_text())
    assert ends_within(grandchild, KILL_DELIVERY_SECONDS)


def ends_within(pid: int, seconds: float) -> bool:
    """True once the process has ended (gone, or a zombie its new parent has not reaped yet):
    a SIGKILL takes effect when the process is next scheduled, not at once."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
