"""The benchmark's results: one row per configuration, the issue's targets, a table and JSON."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from tests.bench.load import Measurement

BASELINE = "baseline"
GET_SQLITE_1W = "get-sqlite-1w"
PUT_SQLITE_1W = "put-sqlite-1w"
GET_DYNAMODB = "get-dynamodb-c1"
GET_ITEM_DIRECT = "getitem-direct-c1"


@dataclass(frozen=True)
class Row:
    """A configuration's medians over its runs, with the server's start and memory figures."""

    name: str
    description: str
    workers: int
    connections: int
    median: Measurement
    runs: Sequence[Measurement]
    ready_seconds: float | None = None  # the median over ready_runs
    ready_runs: Sequence[float] = ()
    peak_rss_mib_per_worker: float | None = None
    uses_sqlite: bool = False


@dataclass(frozen=True)
class Target:
    """One of the issue's targets, as measured in this run."""

    row: str
    goal: str
    measured: str
    passed: bool


def targets(rows: Sequence[Row]) -> list[Target]:
    """The issue's targets; ratios compare rows of the same run, so they hold on a noisy machine."""
    by_name = {row.name: row.median for row in rows}
    baseline = by_name[BASELINE]
    get, put = by_name[GET_SQLITE_1W], by_name[PUT_SQLITE_1W]
    added_ms = by_name[GET_DYNAMODB].p50_ms - by_name[GET_ITEM_DIRECT].p50_ms
    found = [
        _at_least(GET_SQLITE_1W, "req/s vs baseline", get.rps / baseline.rps, 0.6, "x"),
        _at_most(GET_SQLITE_1W, "p99 vs baseline p99", get.p99_ms / baseline.p99_ms, 2.0, "x"),
        _at_least(PUT_SQLITE_1W, "req/s vs baseline", put.rps / baseline.rps, 0.4, "x"),
        _at_most(GET_DYNAMODB, "p50 added over direct GetItem", added_ms, 1.0, " ms"),
    ]
    for row in rows:
        if row.ready_seconds is not None and row.name != BASELINE:
            found.append(
                _at_most(row.name, "start to ready", row.ready_seconds, 1.0, " s", relation="<")
            )
        if row.uses_sqlite and row.peak_rss_mib_per_worker is not None:
            rss = row.peak_rss_mib_per_worker
            found.append(_at_most(row.name, "peak RSS per worker", rss, 80.0, " MiB", relation="<"))
    found.extend(
        Target(row.name, "no failed requests", str(row.median.errors), False)
        for row in rows
        if row.median.errors
    )
    return found


def _at_least(row: str, what: str, value: float, limit: float, unit: str) -> Target:
    return Target(row, f"{what} >= {limit:g}{unit}", f"{value:.2f}{unit}", value >= limit)


def _at_most(
    row: str, what: str, value: float, limit: float, unit: str, *, relation: str = "<="
) -> Target:
    passed = value < limit if relation == "<" else value <= limit
    return Target(row, f"{what} {relation} {limit:g}{unit}", f"{value:.2f}{unit}", passed)


def table(rows: Sequence[Row], found: Sequence[Target]) -> str:
    """The results as a Markdown table, then the targets as another one."""
    baseline = next(row for row in rows if row.name == BASELINE)
    lines = [
        "| row | configuration | workers | connections | req/s | p50 ms | p99 ms "
        "| x baseline req/s | peak RSS/worker MiB | start to ready s | targets |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        verdicts = [target.passed for target in found if target.row == row.name]
        lines.append(
            f"| {row.name} | {row.description} | {row.workers} | {row.connections} "
            f"| {row.median.rps:,.0f} | {row.median.p50_ms:.2f} | {row.median.p99_ms:.2f} "
            f"| {_ratio(row, baseline)} | {_optional(row.peak_rss_mib_per_worker)} "
            f"| {_optional(row.ready_seconds, '.2f')} "
            f"| {_verdict(verdicts)} |"
        )
    lines += ["", "| row | target | measured | result |", "|---|---|--:|---|"]
    lines.extend(
        f"| {target.row} | {target.goal} | {target.measured} | {_verdict([target.passed])} |"
        for target in found
    )
    return "\n".join(lines)


def _ratio(row: Row, baseline: Row) -> str:
    """Throughput relative to the baseline, where both ran at the same concurrency."""
    if row.connections != baseline.connections:
        return "-"
    return f"{row.median.rps / baseline.median.rps:.2f}"


def _optional(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _verdict(passed: Sequence[bool]) -> str:
    if not passed:
        return "-"
    return "pass" if all(passed) else "miss"


def as_json(rows: Sequence[Row], found: Sequence[Target]) -> dict[str, object]:
    """Everything measured, per run as well as the medians, for the JSON results file."""
    return {
        "rows": [asdict(row) for row in rows],
        "targets": [asdict(target) for target in found],
    }
