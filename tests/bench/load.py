"""Driving wrk with requests.lua and reading the JSON line its done() hook prints."""

import json
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("requests.lua")


@dataclass(frozen=True)
class Measurement:
    """One timed run: throughput, latency percentiles and the requests that went wrong."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0

    def __str__(self) -> str:
        return (
            f"{self.rps:,.0f} req/s, p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, "
            f"{self.errors} failed"
        )


def median(runs: Sequence[Measurement]) -> Measurement:
    """Each figure's median over the runs (errors are summed: any error spoils a row)."""
    return Measurement(
        rps=statistics.median(run.rps for run in runs),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=statistics.median(run.p99_ms for run in runs),
        errors=sum(run.errors for run in runs),
    )


def wrk_path() -> str:
    """The wrk binary, or a stop with how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed; install it with: apt-get install wrk")
    return path


def wrk_version() -> str:
    # wrk prints its version with its usage and exits 1.
    completed = subprocess.run(
        [wrk_path(), "--version"], capture_output=True, text=True, check=False
    )
    return completed.stdout.split(" Copyright")[0].strip()


def run_wrk(
    url: str, method: str, users: int, *, threads: int, connections: int, seconds: int
) -> Measurement:
    """Load url for the given seconds with wrk, requests spread over the seeded users."""
    argv = [
        wrk_path(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=5s",
        f"--script={SCRIPT}",
        url,
        "--",
        method,
        str(users),
    ]
    completed = subprocess.run(
        argv, capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    return Measurement(
        rps=summary["requests"] / (summary["duration_us"] / 1e6),
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        errors=summary["non_2xx_3xx"] + summary["socket_errors"],
    )
