"""The benchmark's results: one row per configuration, the targets docs/performance.md sets,
tables and JSON, and the results section of a Markdown page (docs/performance.md), which each
full run can rewrite."""

import statistics
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.support.sqlite_files import DISK_BOUND_BYTES, MiB

from .load import Measurement

BASELINE = "baseline"
GET_SQLITE_1W = "get-sqlite-1w"
PUT_SQLITE_1W = "put-sqlite-1w"
GET_DYNAMODB = "get-dynamodb-c1"
GET_ITEM_DIRECT = "getitem-direct-c1"
STORE_DIRECT = "store-direct-c1"
SOAK = "soak-put-sqlite-1w"
#: A page's results section lies between these two lines; `--markdown PAGE` rewrites it.
RESULTS_BEGIN = "<!-- bench-results: begin (nox -s bench -- --markdown writes what follows) -->"
RESULTS_END = "<!-- bench-results: end -->"
RESULTS_HEADER = (
    "| row | configuration | workers | connections | req/s | p50 ms | p99 ms "
    "| x baseline req/s | peak RSS/worker MiB | start to ready s | targets |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
)


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
class Soak:
    """The soak: back-to-back windows of PUTs on one server, and the store's largest files."""

    window_seconds: int
    windows: Sequence[Measurement]
    peak_wal_bytes: int
    peak_footprint_bytes: int
    samples: int

    @property
    def rps(self) -> float:
        """PUTs per second over the whole soak (the windows are of equal length)."""
        return statistics.fmean(window.rps for window in self.windows)

    @property
    def errors(self) -> int:
        return sum(window.errors for window in self.windows)


@dataclass(frozen=True)
class Target:
    """One of the performance targets, as measured in this run."""

    row: str
    goal: str
    measured: str
    passed: bool


def per_round(
    row: Row, other: Row, compare: Callable[[Measurement, Measurement], float]
) -> list[float]:
    """A comparison of two rows within each round (rows of one round run back to back)."""
    return [compare(run, other_run) for run, other_run in zip(row.runs, other.runs, strict=True)]


def paired(row: Row, other: Row, compare: Callable[[Measurement, Measurement], float]) -> float:
    """The median over rounds of a comparison made within each round.

    A comparison within a round cancels the machine's drift from one round to the next (this
    VM's baseline alone moves by a third), which comparing the rows' medians, taken from
    different rounds, does not.
    """
    return statistics.median(per_round(row, other, compare))


def throughput_ratio(run: Measurement, baseline: Measurement) -> float:
    return run.rps / baseline.rps


def p99_ratio(run: Measurement, baseline: Measurement) -> float:
    return run.p99_ms / baseline.p99_ms


def p50_added_ms(run: Measurement, direct: Measurement) -> float:
    return run.p50_ms - direct.p50_ms


def targets(rows: Sequence[Row]) -> list[Target]:
    """The performance targets, each compared within rounds so that it holds on a noisy machine."""
    by_name = {row.name: row for row in rows}
    baseline, get, put = by_name[BASELINE], by_name[GET_SQLITE_1W], by_name[PUT_SQLITE_1W]
    found = [
        _compared(
            get, baseline, throughput_ratio, "req/s vs baseline", least=True, limit=0.6, unit="x"
        ),
        _compared(
            get, baseline, p99_ratio, "p99 vs baseline p99", least=False, limit=2.0, unit="x"
        ),
        _compared(
            put, baseline, throughput_ratio, "req/s vs baseline", least=True, limit=0.5, unit="x"
        ),
        _compared(
            by_name[GET_DYNAMODB],
            by_name[GET_ITEM_DIRECT],
            p50_added_ms,
            "p50 added over boto3 GetItem",
            least=False,
            limit=1.0,
            unit=" ms",
        ),
    ]
    for row in rows:
        if row.ready_seconds is not None and row.name != BASELINE:
            found.append(_under(row.name, "start to ready", row.ready_seconds, 1.0, " s"))
        if row.uses_sqlite and row.peak_rss_mib_per_worker is not None:
            rss = row.peak_rss_mib_per_worker
            found.append(_under(row.name, "peak RSS per worker", rss, 80.0, " MiB"))
    found.extend(
        Target(row.name, "no failed requests", str(row.median.errors), False)
        for row in rows
        if row.median.errors
    )
    return found


def soak_targets(soak: Soak) -> list[Target]:
    """The store's files within their bound through the soak, and no request failed."""
    return [
        _at_most(SOAK, "peak write-ahead log", soak.peak_wal_bytes),
        _at_most(
            SOAK, "peak footprint (database, -wal, -shm, -generation)", soak.peak_footprint_bytes
        ),
        Target(SOAK, "no failed requests", str(soak.errors), soak.errors == 0),
    ]


def _at_most(row: str, what: str, size: int) -> Target:
    passed = size <= DISK_BOUND_BYTES
    bound = f"{DISK_BOUND_BYTES // MiB} MiB"
    return Target(row, f"{what} <= {bound}", f"{size / MiB:.1f} MiB", passed)


def _compared(
    row: Row,
    other: Row,
    compare: Callable[[Measurement, Measurement], float],
    what: str,
    *,
    least: bool,
    limit: float,
    unit: str,
) -> Target:
    """A target on the median of a per-round comparison, shown with every round's value."""
    rounds = per_round(row, other, compare)
    value = statistics.median(rounds)
    passed = value >= limit if least else value <= limit
    goal = f"{what} {'>=' if least else '<='} {limit:g}{unit}"
    shown = f"{value:.2f}{unit} (rounds: {', '.join(f'{each:.2f}' for each in rounds)})"
    return Target(row.name, goal, shown, passed)


def _under(row: str, what: str, value: float, limit: float, unit: str) -> Target:
    return Target(row, f"{what} < {limit:g}{unit}", f"{value:.2f}{unit}", value < limit)


def table(rows: Sequence[Row], found: Sequence[Target]) -> str:
    """The results as a Markdown table, then the targets as another one."""
    lines = [*RESULTS_HEADER, *_row_lines(rows, found)]
    lines += ["", "| row | target | measured | result |", "|---|---|--:|---|"]
    lines.extend(
        f"| {target.row} | {target.goal} | {target.measured} | {_verdict([target.passed])} |"
        for target in found
    )
    return "\n".join([*lines, "", store_call_overhead(rows)])


def soak_table(soak: Soak, found: Sequence[Target]) -> str:
    """The soak as a Markdown table of its own, then its targets."""
    first, last = soak.windows[0], soak.windows[-1]
    verdicts = [target.passed for target in found if target.row == SOAK]
    window = f"{soak.window_seconds} s"
    lines = [
        f"| row | PUT/s | p99 ms, first {window} | p99 ms, last {window} "
        "| peak WAL MiB | peak footprint MiB | failed | targets |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
        f"| {SOAK} | {soak.rps:,.0f} | {first.p99_ms:.2f} | {last.p99_ms:.2f} "
        f"| {soak.peak_wal_bytes / MiB:.1f} | {soak.peak_footprint_bytes / MiB:.1f} "
        f"| {soak.errors} | {_verdict(verdicts)} |",
        "",
        "| row | target | measured | result |",
        "|---|---|--:|---|",
    ]
    lines.extend(
        f"| {target.row} | {target.goal} | {target.measured} | {_verdict([target.passed])} |"
        for target in found
        if target.row == SOAK
    )
    return "\n".join(lines)


def store_call_overhead(rows: Sequence[Row]) -> str:
    """What the service's GET adds over its own store call: no target, but the part of the
    service's latency that its choice of DynamoDB client does not change (HTTP, the app and the
    wake-ups of a server), where the latency target compares it with boto3's GetItem."""
    by_name = {row.name: row for row in rows}
    rounds = per_round(by_name[GET_DYNAMODB], by_name[STORE_DIRECT], p50_added_ms)
    shown = ", ".join(f"{each:.2f}" for each in rounds)
    return (
        f"{GET_DYNAMODB} p50 over {STORE_DIRECT} (no target): "
        f"{statistics.median(rounds):.2f} ms (rounds: {shown})"
    )


def _row_lines(rows: Sequence[Row], found: Sequence[Target]) -> Iterator[str]:
    """The lines of RESULTS_HEADER's table for rows measured in the same rounds as the baseline."""
    baseline = next(row for row in rows if row.name == BASELINE)
    for row in rows:
        yield _row_line(row, _ratio(row, baseline), found)


def _row_line(row: Row, ratio: str, found: Sequence[Target]) -> str:
    verdicts = [target.passed for target in found if target.row == row.name]
    return (
        f"| {row.name} | {row.description} | {row.workers} | {row.connections} "
        f"| {row.median.rps:,.0f} | {row.median.p50_ms:.2f} | {row.median.p99_ms:.2f} "
        f"| {ratio} | {_optional(row.peak_rss_mib_per_worker)} "
        f"| {_optional(row.ready_seconds, '.2f')} "
        f"| {_verdict(verdicts)} |"
    )


def _ratio(row: Row, baseline: Row) -> str:
    """Throughput relative to the baseline (within rounds) where both ran at one concurrency."""
    if row.connections != baseline.connections:
        return "-"
    return f"{paired(row, baseline, throughput_ratio):.2f}"


def _optional(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _verdict(passed: Sequence[bool]) -> str:
    if not passed:
        return "-"
    return "pass" if all(passed) else "miss"


def as_json(rows: Sequence[Row], soak: Soak | None, found: Sequence[Target]) -> dict[str, object]:
    """Everything measured, per run as well as the medians, for the JSON results file."""
    return {
        "rows": [asdict(row) for row in rows],
        "soak": None if soak is None else asdict(soak) | {"rps": soak.rps},
        "targets": [asdict(target) for target in found],
    }


def markdown(
    rows: Sequence[Row],
    soak: Soak,
    soak_row: Row,
    found: Sequence[Target],
    *,
    settings: Mapping[str, str],
    machine: Mapping[str, Any],
) -> str:
    """A whole run for a Markdown page: how it ran, one table of every row with the soak last
    (each figure its median over the rounds, the soak's over its windows), then every target
    as measured, row by row, and the figures that have no target."""
    first, last = soak.windows[0], soak.windows[-1]
    notes = [
        f"{store_call_overhead(rows)}.",
        f"{SOAK} p99 of the first {soak.window_seconds} s (no target): {first.p99_ms:.2f} ms, "
        f"of the last: {last.p99_ms:.2f} ms.",
    ]
    listed = [*_measured([*rows, soak_row], found), *notes]
    return "\n".join(
        [
            _wrapped(_conditions(settings, machine)),
            "",
            *RESULTS_HEADER,
            *_row_lines(rows, found),
            _row_line(soak_row, "-", found),
            "",
            *(_wrapped(f"- {line}", indent="  ") for line in listed),
        ]
    )


def _conditions(settings: Mapping[str, str], machine: Mapping[str, Any]) -> str:
    """Where and how the run was made, from the settings and machine of its JSON file."""
    before, after = machine["load_average_before"][0], machine["load_average_after"][0]
    return (
        f"Measured by `nox -s bench`: {settings['runs']} round{_plural(settings['runs'])} of "
        f"{settings['duration']} s after {settings['warmup']} s of warm-up per server, over "
        f"{int(settings['users']):,} seeded users, then a soak of {settings['soak_seconds']} s "
        f"in windows of {settings['soak_window']} s; {machine['cpus']} CPUs, Python "
        f"{machine['python']}, {machine['wrk']}; load average {before:.1f} before and "
        f"{after:.1f} after; one thread hop (two wake-ups of an idle thread) "
        f"{machine['thread_hop_us']} us."
    )


def _plural(count: str) -> str:
    return "" if count == "1" else "s"


def _measured(rows: Sequence[Row], found: Sequence[Target]) -> Iterator[str]:
    """Each row's targets on one line: its verdict, then every goal with what was measured."""
    for row in rows:
        targets = [target for target in found if target.row == row.name]
        if not targets:
            continue
        measured = "; ".join(f"{target.goal}: {target.measured}" for target in targets)
        yield f"`{row.name}`, {_verdict([target.passed for target in targets])}. {measured}."


def _wrapped(text: str, indent: str = "") -> str:
    return textwrap.fill(
        text, width=100, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


def results_span(page: str) -> tuple[int, int]:
    """Where a page's results go: from the end of its one begin marker to its end marker."""
    if page.count(RESULTS_BEGIN) != 1 or page.count(RESULTS_END) != 1:
        raise ValueError(f"needs one line {RESULTS_BEGIN!r} and one line {RESULTS_END!r}")
    start = page.index(RESULTS_BEGIN) + len(RESULTS_BEGIN)
    end = page.index(RESULTS_END)
    if end < start:
        raise ValueError(f"{RESULTS_END!r} comes before {RESULTS_BEGIN!r}")
    return start, end


def write_results(page: Path, section: str) -> None:
    """Replace the results section of a Markdown page, leaving the rest of it as it was."""
    text = page.read_text()
    start, end = results_span(text)
    # Blank lines around it, so that Markdown ends the section's list before the end marker.
    page.write_text(f"{text[:start]}\n\n{section}\n\n{text[end:]}")
