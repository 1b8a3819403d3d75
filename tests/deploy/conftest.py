"""Fixtures of the deploy program's tests: moto's ECR and ECS, a fake stack whose `up` acts on
them (world.py), and the real gates' targets (a service process, a server that answers 404)."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The deploy program imports as `deploy` with platform/ on the path, as `nox -s deploy` runs it;
# the test support package (tests.support) imports from the repository root. The tests take the
# program's own paths from deploy.paths.
_REPOSITORY = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(_REPOSITORY / "platform"), str(_REPOSITORY)]

from aws import MotoAws, moto_aws  # noqa: E402
from servers import not_found_server  # noqa: E402
from world import World, WorldMaker  # noqa: E402

from tests.support.service_process import ServiceProcess  # noqa: E402


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoAws]:
    with moto_aws() as aws:
        yield aws


@pytest.fixture
def aws(moto: MotoAws) -> MotoAws:
    """moto with nothing in it."""
    moto.reset()
    return moto


@pytest.fixture(scope="session")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real hello-birthday process on SQLite on a free loopback port: what a deployed stack's
    URL would answer."""
    folder = tmp_path_factory.mktemp("service")
    store = {"HELLO_STORE": f"sqlite:///{folder / 'hb.db'}"}
    with ServiceProcess(store, folder / "service.log").running() as service:
        yield service.url


@pytest.fixture(scope="session")
def broken_url() -> Iterator[str]:
    """Up, but every answer is a 404: the smoke suite fails against it."""
    with not_found_server() as url:
        yield url


@pytest.fixture
def world(aws: MotoAws, service_url: str) -> WorldMaker:
    """world(stack_name="dev", url=the local service): a fresh stack on a fresh moto."""

    def make(stack_name: str = "dev", url: str = service_url) -> World:
        return World(aws, stack_name, url)

    return make
