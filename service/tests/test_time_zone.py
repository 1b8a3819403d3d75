"""Today is the calendar date in HELLO_TIMEZONE: the same instant can be two different days."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from hello_birthday.app import create_app
from hello_birthday.settings import Settings

# 23:30 UTC on 27 November: already 28 November east of UTC, still 27 November west of it.
INSTANT = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)


ClientFactory = Callable[[str], TestClient]


@pytest.fixture
def client_in(tmp_path: Path) -> ClientFactory:
    """A client of an app whose clock reads INSTANT, in the given time zone."""

    def make(zone: str) -> TestClient:
        database = tmp_path / f"{zone.replace('/', '-')}.db"
        settings = Settings(store_url=f"sqlite:///{database}", timezone=ZoneInfo(zone))
        return TestClient(create_app(settings, clock=lambda: INSTANT))

    return make


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("UTC", "Hello, Ann! Your birthday is in 1 day(s)"),
        ("America/Los_Angeles", "Hello, Ann! Your birthday is in 1 day(s)"),
        ("Europe/Warsaw", "Hello, Ann! Happy birthday!"),
        ("Pacific/Kiritimati", "Hello, Ann! Happy birthday!"),
    ],
)
def test_the_birthday_arrives_at_local_midnight(
    client_in: ClientFactory, zone: str, message: str
) -> None:
    with client_in(zone) as client:
        assert client.put("/hello/Ann", json={"dateOfBirth": "1990-11-28"}).status_code == 204
        assert client.get("/hello/Ann").json() == {"message": message}


def test_a_date_of_birth_of_local_today_is_refused(client_in: ClientFactory) -> None:
    with client_in("Pacific/Kiritimati") as client:
        # 27 November is yesterday in Kiritimati (already 28th there) but today in UTC.
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-27"}).status_code == 204
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-28"}).status_code == 400
    with client_in("UTC") as client:
        assert client.put("/hello/Ann", json={"dateOfBirth": "2026-11-27"}).status_code == 400
