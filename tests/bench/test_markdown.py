"""The results section that `--markdown` writes into a page: one table, the targets as measured."""

from pathlib import Path

import pytest

from . import report
from .test_report import BASELINE, DIRECT, STORE, row, soak

BEGIN, END = report.RESULTS_BEGIN, report.RESULTS_END
SETTINGS = {
    "runs": "3",
    "duration": "10",
    "warmup": "2",
    "users": "1000",
    "soak_seconds": "180",
    "soak_window": "60",
}
MACHINE = {
    "cpus": 2,
    "python": "3.11.7",
    "wrk": "wrk 4.1.0",
    "load_average_before": [0.5, 0.7, 0.9],
    "load_average_after": [1.5, 1.2, 1.0],
    "thread_hop_us": 40,
}


def section(put_rps: float = 3_000, soak_errors: int = 0) -> str:
    """A run whose GET passes its targets against a drifting baseline; PUT as asked."""
    get = row(report.GET_SQLITE_1W, (4_700, 9, 20), (5_800, 9, 20), (4_700, 10, 21))
    put = row(report.PUT_SQLITE_1W, *[(put_rps, 12, 40)] * 3)
    dynamodb = row(
        report.GET_DYNAMODB, (107, 8.5, 13), (107, 9.6, 13), (107, 8.9, 13), connections=1
    )
    rows = [BASELINE, get, put, dynamodb, DIRECT, STORE]
    soaked = soak(20.0, 24.0, 31.5, wal_mib=8.4, footprint_mib=9.0, errors=soak_errors)
    soak_row = report.Row(report.SOAK, "PUT, sustained", 1, 50, soaked.windows[1], soaked.windows)
    found = [*report.targets(rows), *report.soak_targets(soaked)]
    return report.markdown(rows, soaked, soak_row, found, settings=SETTINGS, machine=MACHINE)


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def test_the_section_is_one_valid_table_with_the_soak_last() -> None:
    lines = table_lines(section())
    assert lines[:2] == list(report.RESULTS_HEADER)
    assert {line.count("|") for line in lines} == {lines[0].count("|")}
    names = [line.split("|")[1].strip() for line in lines[2:]]
    assert names == [
        report.BASELINE,
        report.GET_SQLITE_1W,
        report.PUT_SQLITE_1W,
        report.GET_DYNAMODB,
        report.GET_ITEM_DIRECT,
        report.STORE_DIRECT,
        report.SOAK,
    ]
    # x baseline is the median of the per-round ratios (0.47, 0.725, 0.67), not 4,700 / 8,000.
    assert lines[3].startswith(
        "| get-sqlite-1w | get-sqlite-1w | 1 | 50 | 5,800 | 9.00 | 20.00 | 0.67 |"
    )
    soak_line = (
        "| soak-put-sqlite-1w | PUT, sustained | 1 | 50 | 6,000 | 7.00 | 24.00 | - | - | - |"
    )
    assert lines[-1] == f"{soak_line} pass |"


def test_every_target_is_listed_with_what_was_measured_and_a_miss_is_named() -> None:
    text = section(put_rps=2_000, soak_errors=1)
    listed = " ".join(text.split("\n\n")[2].split())  # the list under the table, unwrapped
    get = "req/s vs baseline >= 0.6x: 0.67x (rounds: 0.47, 0.72, 0.67); p99 vs baseline p99"
    assert f"- `get-sqlite-1w`, pass. {get}" in listed
    assert "- `put-sqlite-1w`, miss. req/s vs baseline >= 0.5x: 0.25x (rounds: 0.20" in listed
    assert "- `get-dynamodb-c1`, pass. p50 added over boto3 GetItem <= 1 ms: 0.70 ms" in listed
    assert "- `soak-put-sqlite-1w`, miss. peak write-ahead log <= 64 MiB: 8.4 MiB;" in listed
    assert "no failed requests: 3." in listed  # one in each of the three windows
    assert table_lines(text)[-1].endswith("| miss |")
    assert "(no target): 1.70 ms (rounds: 1.50, 2.10, 1.70)." in listed
    assert "soak-put-sqlite-1w p99 of the first 60 s (no target): 20.00 ms, of the last: 31.50" in (
        listed
    )


def test_the_conditions_say_how_and_where_it_ran_and_prose_is_wrapped_at_100() -> None:
    text = section()
    prose = " ".join(text.split("\n\n")[0].split())
    assert prose.startswith("Measured by `nox -s bench`: 3 rounds of 10 s after 2 s of warm-up")
    assert "1,000 seeded users, then a soak of 180 s in windows of 60 s; 2 CPUs" in prose
    assert "load average 0.5 before and 1.5 after;" in prose
    assert all(len(line) <= 100 for line in text.splitlines() if not line.startswith("|"))


PAGE = f"# Performance\n\nMethod.\n\n{BEGIN}\nthe last run's table\n{END}\n\n## Limits\n"


def test_writing_replaces_only_what_is_between_the_markers(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(PAGE)
    report.write_results(page, "first run")
    report.write_results(page, "| second | run |")
    assert page.read_text() == (
        f"# Performance\n\nMethod.\n\n{BEGIN}\n\n| second | run |\n\n{END}\n\n## Limits\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "# Performance, no markers\n",
        f"{BEGIN}\nno end\n",
        f"{END}\nend first\n{BEGIN}\n",
        f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n",
    ],
    ids=["none", "no-end", "reversed", "twice"],
)
def test_a_page_without_one_pair_of_markers_in_order_is_refused_and_kept(
    tmp_path: Path, text: str
) -> None:
    page = tmp_path / "page.md"
    page.write_text(text)
    with pytest.raises(ValueError, match="bench-results"):
        report.write_results(page, "table")
    assert page.read_text() == text
