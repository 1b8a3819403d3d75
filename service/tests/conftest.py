"""Fixtures: a pinned clock, and the app on either store (SQLite file, DynamoDB through moto)."""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hello_birthday.app import Endpoints, build_app
from hello_birthday.settings import Settings
from tests.support.emulator import Emulator, MotoServer


@dataclass
class PinnedClock:
    """A clock the test moves by hand; the app reads it on every request."""

    now: datetime = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set_today(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """moto's server, as the integration suite and the bench run it; its endpoint and dummy
    credentials are in os.environ for the session, where the app's boto3 and the tests' own
    find them."""
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with MotoServer(log_path).running() as server, pytest.MonkeyPatch.context() as environ:
        emulator = server.emulator()
        for name, value in emulator.aws_env().items():
            environ.setenv(name, value)
        yield emulator


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every API test runs against both stores."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'birthdays.db'}"
    moto: Emulator = request.getfixturevalue("moto")
    return f"dynamodb://{moto.create_table()}"


@pytest.fixture
def clock() -> PinnedClock:
    return PinnedClock()


@pytest.fixture
def set_today(clock: PinnedClock) -> Callable[[date], None]:
    """Move the app's clock to noon UTC on the given day."""
    return clock.set_today


def settings_for(store_url: str) -> Settings:
    """The default settings but for the store, with this process's AWS variables (moto's)."""
    aws = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    return Settings.from_env({**aws, "HELLO_STORE": store_url})


@pytest.fixture
def endpoints(store_url: str, clock: PinnedClock) -> Endpoints:
    """The client's endpoints: the store, the metrics and the shutdown signal behind its app."""
    return Endpoints(settings_for(store_url), clock)


@pytest.fixture
def client(endpoints: Endpoints) -> Iterator[TestClient]:
    with TestClient(build_app(endpoints), raise_server_exceptions=False) as test_client:
        yield test_client
