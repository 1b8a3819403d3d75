"""The smoke suite's target: a --base-url (or HELLO_BASE_URL) given but empty or malformed is a
usage error, so a deploy that lost its URL cannot pass against a service started here."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def smoke(*args: str, base_url_env: str | None = None) -> subprocess.CompletedProcess[str]:
    """`pytest tests/integration/test_api.py ARGS` as `nox -s smoke` runs it."""
    env = {key: value for key, value in os.environ.items() if key != "HELLO_BASE_URL"}
    if base_url_env is not None:
        env["HELLO_BASE_URL"] = base_url_env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration/test_api.py", "-p", "no:cacheprovider",
         "-x", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    "url",
    ["", "not-a-url", "127.0.0.1:8000", "http://", "ftp://host", " https://host", "http://[::1"],
)
def test_an_empty_or_malformed_base_url_is_a_usage_error(url: str) -> None:
    result = smoke(f"--base-url={url}")

    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "is not an http:// or https:// URL" in result.stderr
    assert "passed" not in result.stdout


@pytest.mark.timeout(150)
def test_an_empty_hello_base_url_is_a_usage_error_too() -> None:
    result = smoke(base_url_env="")

    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "HELLO_BASE_URL" in result.stderr
