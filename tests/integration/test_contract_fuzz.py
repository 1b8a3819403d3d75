"""Contract fuzzing over HTTP: schemathesis against the running service's own /openapi.json.

It runs every schemathesis check but one: positive_data_acceptance expects every schema-valid
request to succeed, and JSON Schema cannot say "letters only" or "before today", so names like
"0" and future dates are schema-valid yet rightly 400.
"""

import json
import subprocess
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

EXAMPLES_PER_OPERATION = 30
AT_LEAST_REQUESTS = 200
RUN_SECONDS = 200.0


def test_generated_requests_get_no_5xx_and_conform_to_the_document(
    own_service_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "schemathesis.json"
    argv = [
        str(Path(sysconfig.get_path("scripts")) / "schemathesis"),
        "run",
        f"{own_service_url}/openapi.json",
        "--checks=all",
        "--exclude-checks=positive_data_acceptance",
        f"--max-examples={EXAMPLES_PER_OPERATION}",
        "--request-timeout=10",
        "--report=json",
        f"--report-json-path={report}",
    ]
    # In tmp_path: schemathesis and Hypothesis write their databases to the working directory.
    run = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    summary = json.loads(report.read_text())
    assert summary["operations"]["tested"] == summary["operations"]["total"], summary
    assert summary["test_cases"]["generated"] >= AT_LEAST_REQUESTS, summary["test_cases"]
