"""A gate that hangs is stopped, with everything it started, and fails."""

import time

import psutil
import pytest
from deploy import gates
from deploy.gates import GateError, Gates
from servers import silent_server
from world import ROOT

TIMEOUT = 3.0


def test_a_hung_smoke_gate_is_stopped_and_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # The smoke suite's own client waits 10 s for an answer; the gate gives up first.
    monkeypatch.setattr(gates, "SMOKE_TIMEOUT_SECONDS", TIMEOUT)
    started = time.monotonic()

    with (
        silent_server() as url,
        pytest.raises(GateError, match=f"still running after {TIMEOUT:g} s"),
    ):
        Gates(ROOT, None).smoke(url)

    assert time.monotonic() - started < TIMEOUT + 5
    gate_processes = [
        child
        for child in psutil.Process().children(recursive=True)
        if "tests/integration/test_api.py" in child.cmdline()
    ]
    assert gate_processes == []
