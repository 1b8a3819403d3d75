"""The load gate's verdict, from statistics shaped like the file locust writes (--json-file)."""

import json
from pathlib import Path

import pytest

from .thresholds import Result, Thresholds, judge, read_result

GATE = Thresholds(max_error_rate=0.01, max_p99_ms=200, min_rps=100)


def entry(times_ms: dict[int, int], failures: int, start: float, end: float) -> dict[str, object]:
    """One endpoint's statistics as locust serialises them (JSON turns the keys into strings)."""
    return {
        "name": "GET /hello/[username]",
        "method": "GET",
        "start_time": start,
        "last_request_timestamp": end,
        "num_requests": sum(times_ms.values()),
        "num_failures": failures,
        "response_times": {str(ms): count for ms, count in times_ms.items()},
    }


def write_stats(tmp_path: Path, *entries: dict[str, object]) -> Path:
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(list(entries)))
    return path


def test_endpoints_are_merged_into_one_result(tmp_path: Path) -> None:
    get = entry({10: 1000, 150: 30, 900: 10}, failures=1, start=100.0, end=110.0)
    put = entry({20: 960}, failures=3, start=101.0, end=105.0)

    result = read_result(write_stats(tmp_path, get, put))

    assert result.requests == 2000
    assert result.failures == 4
    assert result.rps == pytest.approx(2000 / 10.0)
    assert result.p50_ms == 10
    # Ranked: 1000 at 10 ms, 960 at 20 ms, 30 at 150 ms, 10 at 900 ms; the 1980th is at 150 ms.
    assert result.p99_ms == 150


def test_a_healthy_run_passes_every_check() -> None:
    result = Result(requests=3000, failures=3, rps=150.0, p50_ms=20.0, p99_ms=120.0)

    assert all(check.passed for check in judge(result, GATE))


@pytest.mark.parametrize(
    ("result", "missed"),
    [
        (Result(requests=1000, failures=11, rps=150.0, p50_ms=20.0, p99_ms=120.0), "error rate"),
        (Result(requests=1000, failures=0, rps=150.0, p50_ms=20.0, p99_ms=201.0), "p99 latency"),
        (Result(requests=1000, failures=0, rps=99.0, p50_ms=20.0, p99_ms=120.0), "throughput"),
        (Result(requests=0, failures=0, rps=0.0, p50_ms=0.0, p99_ms=0.0), "requests"),
    ],
)
def test_each_missed_threshold_fails_its_check(result: Result, missed: str) -> None:
    failed = [check.name for check in judge(result, GATE) if not check.passed]

    assert missed in failed


def test_a_run_without_completed_requests_has_no_latency(tmp_path: Path) -> None:
    result = read_result(write_stats(tmp_path, entry({}, failures=5, start=1.0, end=2.0)))

    assert result.p99_ms == float("inf")
    assert not all(check.passed for check in judge(result, GATE))
