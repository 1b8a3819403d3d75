"""The post-deploy gates, run as subprocesses whose environment holds no cloud credentials.

The smoke gate is the black-box API suite (`pytest tests/integration/test_api.py`), the load
gate `python -m tests.load` with the stage's thresholds. Both are third-party code (pytest,
locust and their plugins) that needs no AWS or Pulumi access, so the environment they get is
an allow-list: AWS_*, PULUMI_ACCESS_TOKEN, ACTIONS_ID_TOKEN_REQUEST_*, GITHUB_TOKEN and
anything else not named here stay behind.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

GATE_ENVIRONMENT = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "NO_COLOR",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "VIRTUAL_ENV",
    "CI",
)
# A gate still running after this long has failed (a hung gate must not hold a deploy open).
SMOKE_TIMEOUT_SECONDS = 600.0
LOAD_TIMEOUT_SECONDS = 1800.0


class GateError(Exception):
    """A gate ran and did not pass, or could not run."""


def gate_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of environ."""
    return {name: environ[name] for name in GATE_ENVIRONMENT if name in environ}


class Gates:
    """The smoke gate, and the load gate when the stage gives thresholds (load_args)."""

    def __init__(
        self, root: Path, load_args: Sequence[str] | None, python: str = sys.executable
    ) -> None:
        self._root = root
        self._load_args = list(load_args) if load_args is not None else None
        self._python = python

    def check_load_args(self) -> None:
        """GateError now, before anything is deployed, if the load gate would refuse its args."""
        if self._load_args is not None:
            self._run("load gate arguments", ["-m", "tests.load", "--dry-run", *self._load_args])

    def smoke(self, url: str) -> None:
        argv = ["-m", "pytest", "tests/integration/test_api.py", f"--base-url={url}"]
        self._run("smoke gate", [*argv, "-p", "no:cacheprovider"], SMOKE_TIMEOUT_SECONDS)

    def load(self, url: str) -> None:
        """The load gate; nothing when the stage runs none."""
        if self._load_args is not None:
            argv = ["-m", "tests.load", url, *self._load_args]
            self._run("load gate", argv, LOAD_TIMEOUT_SECONDS)

    def _run(self, name: str, argv: list[str], timeout: float = 60.0) -> None:
        print(f"deploy: {name}: python {' '.join(argv)}", flush=True)
        # A session of its own, so that a gate that times out goes with its children (locust).
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our own argv
            [self._python, *argv],
            cwd=self._root,
            env=gate_environment(os.environ),
            start_new_session=True,
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise GateError(f"{name} still running after {timeout:g} s; stopped") from None
        if code != 0:
            raise GateError(f"{name} failed (exit {code})")
