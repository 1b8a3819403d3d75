"""Today is the calendar date in HELLO_TIMEZONE: the same instant can be two different days."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from hello_birthday.app import create_app
from hello_birthday.settings import Settings

# 23:30 UTC on 27 November: already 28 November east of UTC, still 27 November west of it.
INSTANT = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
# 03:00 UTC on 28 November: the UTC date has turned, but Los Angeles (UTC-8 in November) is
# still at 19:00 on 27 November. Here local "today" is *earlier* than the UTC date.
EARLY_UTC_INSTANT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


class ClientFactory(Protocol):
    def __call__(self, zone: str, instant: datetime = INSTANT) -> TestClient: ...


@pytest.fixture
def client_in(tmp_path: Path) -> ClientFactory:
    """A client of an app whose clock reads ``instant``, in the given time zone."""

    def make(zone: str, instant: datetime = INSTANT) -> TestClient:
        database = tmp_path / f"{zone.replace('/', '-')}-{instant:%Y%m%dT%H%M}.db"
        settings = Settings(store_url=f"sqlite:///{database}", timezone=ZoneInfo(zone))
        return TestClient(create_app(settings, clock=lambda: instant))

    return make


def test_the_instants_fall_on_the_dates_the_cases_rely_on() -> None:
    los_angeles = ZoneInfo("America/Los_Angeles")
    assert INSTANT.date().isoformat() == "2026-11-27"
    assert INSTANT.astimezone(ZoneInfo("Europe/Warsaw")).date().isoformat() == "2026-11-28"
    assert EARLY_UTC_INSTANT.date().isoformat() == "2026-11-28"
    assert EARLY_UTC_INSTANT.astimezone(los_angeles).date().isoformat() == "2026-11-27"


# Zone, instant, greeting of someone born on 28 November.
ARRIVALS = [
    ("UTC", INSTANT, "Hello, Ann! Your birthday is in 1 day(s)"),
    ("America/Los_Angeles", INSTANT, "Hello, Ann! Your birthday is in 1 day(s)"),
    ("Europe/Warsaw", INSTANT, "Hello, Ann! Happy birthday!"),
    ("Pacific/Kiritimati", INSTANT, "Hello, Ann! Happy birthday!"),
    # West of UTC while the UTC date is already the 28th: Los Angeles is still on the 27th.
    ("UTC", EARLY_UTC_INSTANT, "Hello, Ann! Happy birthday!"),
    ("America/Los_Angeles", EARLY_UTC_INSTANT, "Hello, Ann! Your birthday is in 1 day(s)"),
]


@pytest.mark.parametrize(
    ("zone", "instant", "message"),
    [
        pytest.param(*arrival, id=f"{arrival[0].rsplit('/')[-1]}-{arrival[1]:%H%M}Z")
        for arrival in ARRIVALS
    ],
)
def test_the_birthday_arrives_at_local_midnight(
    client_in: ClientFactory, zone: str, instant: datetime, message: str
) -> None:
    with client_in(zone, instant) as client:
        assert client.put("/hello/Ann", json={"dateOfBirth": "1990-11-28"}).status_code == 204
        assert client.get("/hello/Ann").json() == {"message": message}


def test_a_date_of_birth_of_local_today_is_refused(client_in: ClientFactory) -> None:
    with client_in("Pacific/Kiritimati") as client:
        # 27 November is yesterday in Kiritimati (already 28th there) but today in UTC.
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-27"}).status_code == 204
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-28"}).status_code == 400
    with client_in("UTC") as client:
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-27"}).status_code == 400


def test_west_of_utc_today_is_the_local_date_not_the_utc_date(client_in: ClientFactory) -> None:
    # At 03:00 UTC on 28 November, 27 November is yesterday in UTC but today in Los Angeles.
    with client_in("UTC", EARLY_UTC_INSTANT) as client:
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-27"}).status_code == 204
    with client_in("America/Los_Angeles", EARLY_UTC_INSTANT) as client:
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-27"}).status_code == 400
        assert client.get("/hello/Ann").status_code == 404  # the refused date was not stored
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-26"}).status_code == 204
        # Born on 26 November: 364 days to go, counted from the local 27th (not 363 from the 28th).
        assert client.get("/hello/Ann").json() == {
            "message": "Hello, Ann! Your birthday is in 364 day(s)"
        }
