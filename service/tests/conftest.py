"""Fixtures: a pinned clock, and the app on either store (SQLite file, DynamoDB through moto)."""

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from starlette.testclient import TestClient

from hello_birthday.app import Endpoints, build_app
from hello_birthday.settings import Settings
from hello_birthday.store.schema import create_table_request


@dataclass
class PinnedClock:
    """A clock the test moves by hand; the app reads it on every request."""

    now: datetime = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set_today(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's DynamoDB wire protocol on a loopback port, with dummy credentials for boto3."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {name: os.environ.get(name) for name in _AWS_ENVIRONMENT}
    os.environ.update(_AWS_ENVIRONMENT | {"AWS_ENDPOINT_URL": endpoint})
    yield endpoint
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "",
}


def new_dynamodb_table(endpoint: str) -> str:
    name = f"birthdays-{uuid.uuid4().hex}"
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    client.create_table(**create_table_request(name))
    return name


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every API test runs against both stores."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'birthdays.db'}"
    endpoint: str = request.getfixturevalue("moto_endpoint")
    return f"dynamodb://{new_dynamodb_table(endpoint)}"


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
