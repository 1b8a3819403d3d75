"""Fixtures: the DynamoDB emulator, stores, and real service processes; the --base-url option."""

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.emulator import Emulator, MotoServer
from tests.support.localstack import localstack_endpoint, reachable_localstack
from tests.support.service_process import ServiceProcess, ServiceStarter
from tests.support.urls import NOT_A_SERVICE_URL, is_service_url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--base-url",
        default=os.environ.get("HELLO_BASE_URL"),
        help="run the black-box API suite against this running service (env HELLO_BASE_URL); "
        "default: a service process the tests start on the DynamoDB emulator",
    )


def pytest_configure(config: pytest.Config) -> None:
    """A target given but empty or malformed is a usage error, not a cue to test a local service:
    a deploy that lost its URL must not pass its smoke gate against one started here."""
    given: str | None = config.getoption("--base-url")
    if given is None:
        return
    if not is_service_url(given):
        raise pytest.UsageError(
            f"--base-url / HELLO_BASE_URL {given!r} is {NOT_A_SERVICE_URL}; "
            "leave both unset to test a service started here"
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    given = config.getoption("--base-url")
    localstack = reachable_localstack()
    if localstack is not None:
        emulator = f"LocalStack at {localstack.endpoint_url}"
    else:
        emulator = (
            f"moto_server on a private loopback port (no LocalStack with DynamoDB "
            f"at {localstack_endpoint()})"
        )
    return [
        f"black-box API suite target: {given or 'a hello-birthday process started here'}",
        f"DynamoDB emulator for the services started here: {emulator}",
    ]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A reachable LocalStack, else a moto server of this session, stopped by PID at the end."""
    localstack = reachable_localstack()
    if localstack is not None:
        yield localstack
        return
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").running() as moto:
        yield moto.emulator()


@pytest.fixture
def dynamodb_store(emulator: Emulator) -> Iterator[dict[str, str]]:
    with emulator.table() as table:
        yield emulator.store_env(table)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> dict[str, str]:
    return {"HELLO_STORE": f"sqlite:///{tmp_path / 'hello-birthday.db'}"}


@pytest.fixture(params=["dynamodb", "sqlite"])
def store(request: pytest.FixtureRequest) -> dict[str, str]:
    """Each store in turn: the deployed one (on the emulator) and the embedded one."""
    env: dict[str, str] = request.getfixturevalue(f"{request.param}_store")
    return env


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[ServiceStarter]:
    """start_service(env, workers=1, ready=True): a ready (or only live) service; every one is
    stopped at the end."""
    started: list[ServiceProcess] = []

    def start(env: Mapping[str, str], *, workers: int = 1, ready: bool = True) -> ServiceProcess:
        service = ServiceProcess(env, tmp_path / f"service-{len(started)}.log", workers=workers)
        started.append(service)
        print(f"service {service.url} logs to {tmp_path}")  # shown when the test fails
        service.start(ready=ready)
        return service

    try:
        yield start
    finally:
        for service in started:
            service.stop()


@pytest.fixture(scope="session")
def own_service_url(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One service process for the session, on a fresh table of the emulator."""
    log_path = tmp_path_factory.mktemp("service") / "service.log"
    with (
        emulator.table() as table,
        ServiceProcess(emulator.store_env(table), log_path).running() as service,
    ):
        yield service.url


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> str:
    """The service under the black-box suite: --base-url / HELLO_BASE_URL, else our own."""
    given: str | None = request.config.getoption("--base-url")
    if given is not None:
        return given.rstrip("/")
    url: str = request.getfixturevalue("own_service_url")
    return url
