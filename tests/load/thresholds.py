"""Reading locust's final statistics and judging them against the gate's thresholds."""

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Thresholds:
    """What a run must achieve to pass the gate."""

    max_error_rate: float
    max_p99_ms: float
    min_rps: float


@dataclass(frozen=True)
class Result:
    """The aggregated figures of one run."""

    requests: int
    failures: int
    rps: float
    p50_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 1.0


@dataclass(frozen=True)
class Check:
    """One threshold against one figure."""

    name: str
    limit: str
    measured: str
    passed: bool


def read_result(stats_json: Path) -> Result:
    """All requests of a run, from the final statistics locust writes with --json-file."""
    entries = json.loads(stats_json.read_text())
    # Response time (ms, as locust rounds it) -> number of requests that took that long.
    histogram: Counter[int] = Counter()
    for entry in entries:
        histogram.update({int(ms): count for ms, count in entry["response_times"].items()})
    start = min((entry["start_time"] for entry in entries), default=0.0)
    end = max((entry["last_request_timestamp"] or start for entry in entries), default=start)
    requests = sum(entry["num_requests"] for entry in entries)
    return Result(
        requests=requests,
        failures=sum(entry["num_failures"] for entry in entries),
        rps=requests / (end - start) if end > start else 0.0,
        p50_ms=percentile(histogram, 0.50),
        p99_ms=percentile(histogram, 0.99),
    )


def percentile(histogram: Counter[int], fraction: float) -> float:
    """The smallest time within which `fraction` of the requests finished (nearest rank)."""
    rank = fraction * histogram.total()
    seen = 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= rank:
            return float(ms)
    return float("inf")  # no request completed


def judge(result: Result, thresholds: Thresholds) -> list[Check]:
    """Every threshold checked; the run passes when all checks pass."""
    return [
        Check(
            "requests",
            "> 0",
            str(result.requests),
            result.requests > 0,
        ),
        Check(
            "error rate",
            f"<= {thresholds.max_error_rate:.2%}",
            f"{result.error_rate:.2%} ({result.failures})",
            result.error_rate <= thresholds.max_error_rate,
        ),
        Check(
            "p99 latency",
            f"<= {thresholds.max_p99_ms:g} ms",
            f"{result.p99_ms:g} ms",
            result.p99_ms <= thresholds.max_p99_ms,
        ),
        Check(
            "throughput",
            f">= {thresholds.min_rps:g} req/s",
            f"{result.rps:.1f} req/s",
            result.rps >= thresholds.min_rps,
        ),
    ]


def summary_table(result: Result, checks: list[Check]) -> str:
    """A plain-text table of the checks, with the median latency for context."""
    rows = [("check", "threshold", "measured", "result")]
    rows += [(c.name, c.limit, c.measured, "pass" if c.passed else "FAIL") for c in checks]
    rows.append(("p50 latency", "-", f"{result.p50_ms:g} ms", "info"))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
