"""Error lines for repeated failures: the first at once, then one per interval with a count."""

import asyncio
import logging

import pytest

from hello_birthday.failure_log import FailureLog

INTERVAL = 0.05
LOGGER = logging.getLogger("tests.failure_log")


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger=LOGGER.name)
    return caplog


def logged(lines: pytest.LogCaptureFixture) -> list[tuple[str, int]]:
    return [
        (record.getMessage(), getattr(record, "fields", {})["count"]) for record in lines.records
    ]


def test_the_first_failure_is_logged_at_once_and_the_rest_of_the_interval_as_one_line(
    lines: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        log = FailureLog("store unavailable", LOGGER, INTERVAL)
        log.record("first cause")
        assert logged(lines) == [("store unavailable: first cause", 1)]
        for number in range(2, 6):
            log.record(f"cause {number}")
        assert len(lines.records) == 1  # counted, not logged yet
        await asyncio.sleep(INTERVAL * 2)  # the interval ends with a line for the four
        assert logged(lines)[1:] == [
            ("store unavailable: cause 5 (the last of 4 since the previous line)", 4)
        ]
        await asyncio.sleep(INTERVAL * 2)
        assert len(lines.records) == 2  # nothing failed meanwhile: no line
        log.record("after a quiet interval")  # logged at once again
        assert logged(lines)[2:] == [("store unavailable: after a quiet interval", 1)]

    asyncio.run(scenario())


def test_a_long_outage_gets_a_line_per_interval_and_every_failure_counted(
    lines: pytest.LogCaptureFixture,
) -> None:
    failures = 40

    async def scenario() -> None:
        log = FailureLog("store unavailable", LOGGER, INTERVAL)
        started = asyncio.get_running_loop().time()
        for _ in range(failures):  # over about four intervals
            log.record("outage")
            await asyncio.sleep(INTERVAL / 10)
        intervals = (asyncio.get_running_loop().time() - started) / INTERVAL
        log.flush()
        counts = [count for _, count in logged(lines)]
        assert sum(counts) == failures
        assert len(counts) <= intervals + 2  # one at once, one per interval, the flush

    asyncio.run(scenario())


def test_flush_writes_what_is_counted_and_nothing_twice(lines: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        log = FailureLog("stored data invalid", LOGGER, interval=3600)
        log.record("Ann")
        log.record("Bob")
        log.flush()  # at shutdown, long before the interval's end
        log.flush()
        assert logged(lines) == [
            ("stored data invalid: Ann", 1),
            ("stored data invalid: Bob (the last of 1 since the previous line)", 1),
        ]

    asyncio.run(scenario())
