"""Today's date, kept per quarter hour, always equals a fresh conversion of the clock's instant."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hello_birthday.today import QUARTER_HOUR, Today

# Zones whose dates turn in unusual ways, beside two ordinary ones.
ZONES = [
    "UTC",
    "Europe/Warsaw",
    "America/Santiago",  # daylight saving ends at midnight, back to 23:00 of the day before
    "Asia/Beirut",  # daylight saving starts and ends at midnight
    "America/Havana",  # clocks go back from 01:00 to 00:00: the date's first hour happens twice
    "Australia/Lord_Howe",  # a half-hour daylight-saving shift
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 and +13:45
    "America/St_Johns",  # -03:30 and -02:30
    "Africa/Casablanca",  # leaves and rejoins daylight saving around Ramadan
    "Pacific/Apia",  # skipped 30 December 2011 to cross the date line
    "Europe/Amsterdam",  # +00:19:32 until 1937: midnights off the quarter hour
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """The hours (UTC) in which the zone's offset changes."""
    hour = start
    while hour < end:
        if (
            hour.astimezone(zone).utcoffset()
            != (hour + timedelta(hours=1)).astimezone(zone).utcoffset()
        ):
            yield hour
        hour += timedelta(hours=1)


def walk(zone_name: str, start: datetime, end: datetime, step: timedelta) -> int:
    """Asks one Today at every step from start to end; returns how many answers were checked."""
    zone = ZoneInfo(zone_name)
    clock = Clock()
    today = Today(clock, zone)
    checked = 0
    clock.now = start
    while clock.now < end:
        assert today() == clock.now.astimezone(zone).date(), (zone_name, clock.now)
        clock.now += step
        checked += 1
    return checked


# An odd step, so the walk lands on every part of a quarter hour, its edges included.
STEP = timedelta(seconds=97, microseconds=1)


@pytest.mark.parametrize("zone_name", ZONES)
def test_matches_a_fresh_conversion_across_every_offset_change(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    changes = list(
        transitions(zone, datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    )
    windows = [(change - timedelta(days=1), change + timedelta(days=1)) for change in changes]
    # Zones without daylight saving still turn their date at midnight: two ordinary days.
    windows.append((datetime(2026, 11, 27, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)))
    assert sum(walk(zone_name, start, end, STEP) for start, end in windows) > 0


@pytest.mark.parametrize(
    ("zone_name", "start"),
    [
        ("Pacific/Apia", datetime(2011, 12, 29, tzinfo=UTC)),
        ("Europe/Amsterdam", datetime(1935, 6, 1, tzinfo=UTC)),
    ],
)
def test_matches_a_fresh_conversion_on_historical_dates(zone_name: str, start: datetime) -> None:
    assert walk(zone_name, start, start + timedelta(days=3), STEP) > 0


# Instants in any order: the clock may jump back (a test's pinned clock, an NTP step).
@given(
    zone_name=st.sampled_from(ZONES),
    instants=st.lists(
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
            lambda naive: naive.replace(tzinfo=UTC)
        ),
        min_size=1,
        max_size=20,
    ),
)
def test_matches_a_fresh_conversion_in_any_order(zone_name: str, instants: list[datetime]) -> None:
    zone = ZoneInfo(zone_name)
    clock = Clock()
    today = Today(clock, zone)
    for instant in instants:
        clock.now = instant
        assert today() == instant.astimezone(zone).date()


class CountingZone(tzinfo):
    """A ZoneInfo that counts the instants converted into it."""

    def __init__(self, name: str) -> None:
        self._zone = ZoneInfo(name)
        self.conversions = 0

    def fromutc(self, dt: datetime) -> datetime:
        self.conversions += 1
        return self._zone.fromutc(dt.replace(tzinfo=self._zone)).replace(tzinfo=self)

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self._zone.utcoffset(None if dt is None else dt.replace(tzinfo=self._zone))

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self._zone.dst(None if dt is None else dt.replace(tzinfo=self._zone))

    def tzname(self, dt: datetime | None) -> str | None:
        return self._zone.tzname(None if dt is None else dt.replace(tzinfo=self._zone))


def test_converts_once_per_quarter_hour() -> None:
    zone = CountingZone("Europe/Warsaw")
    clock = Clock()
    today = Today(clock, zone)
    quarter = datetime(2026, 11, 28, 12, 15, tzinfo=UTC)
    clock.now = quarter
    today()
    one_quarter = zone.conversions
    for second in range(9, 900, 9):
        clock.now = quarter + timedelta(seconds=second)
        today()
    assert zone.conversions == one_quarter > 0
    clock.now = quarter + QUARTER_HOUR
    today()
    assert zone.conversions == 2 * one_quarter


def test_a_quarter_hour_with_midnight_inside_converts_on_every_call() -> None:
    # Amsterdam's summer time was +01:19:32 in 1935: midnight fell at 22:40:28 UTC, mid-quarter.
    zone = CountingZone("Europe/Amsterdam")
    clock = Clock()
    today = Today(clock, zone)
    midnight = datetime(1935, 6, 1, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(UTC)
    assert midnight.time().isoformat() == "22:40:28"
    answers = set()
    for second in (-30, -20, -10, 10, 20, 30):
        before = zone.conversions
        clock.now = midnight + timedelta(seconds=second)
        answers.add(today())
        assert zone.conversions > before
    assert len(answers) == 2


# A made-up zone: at 23:47 UTC it goes from +00:30 back to +00:10, so the local date goes from
# 2 March back to 1 March and, three minutes later, to 2 March again. Both ends of the quarter
# hour from 23:45 are on 2 March; only their UTC offsets differ.
JUMP = datetime(2026, 3, 1, 23, 47)
BEFORE, AFTER = timedelta(minutes=30), timedelta(minutes=10)


class BackOverMidnight(tzinfo):
    def fromutc(self, dt: datetime) -> datetime:
        utc = dt.replace(tzinfo=None)
        if utc < JUMP:
            return (utc + BEFORE).replace(tzinfo=self)
        local = utc + AFTER
        # Wall times the zone showed before the jump are shown again: their second occurrence.
        return local.replace(tzinfo=self, fold=int(local < JUMP + BEFORE))

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return AFTER
        wall = dt.replace(tzinfo=None, fold=0)
        if wall < JUMP + AFTER:
            return BEFORE
        if wall >= JUMP + BEFORE:
            return AFTER
        return AFTER if dt.fold else BEFORE

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_a_quarter_hour_whose_ends_agree_only_on_the_date_is_not_kept() -> None:
    zone = BackOverMidnight()
    quarter = datetime(2026, 3, 1, 23, 45, tzinfo=UTC)
    ends = [
        quarter.astimezone(zone),
        (quarter + QUARTER_HOUR - timedelta.resolution).astimezone(zone),
    ]
    assert [end.date().isoformat() for end in ends] == ["2026-03-02", "2026-03-02"]
    clock = Clock()
    today = Today(clock, zone)
    answers = []
    for minute in range(15):
        clock.now = quarter + timedelta(minutes=minute)
        answers.append(today().day)
    assert answers == [2, 2, 1, 1, 1, *[2] * 10]
