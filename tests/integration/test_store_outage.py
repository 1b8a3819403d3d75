"""Store outage: the DynamoDB endpoint dies or hangs under a running service, then comes back;
the SQLite database stays locked by another process.

These tests always use a moto server of their own, even when a LocalStack is reachable: they must
be able to stop and freeze it, and nobody else's data is at risk.
"""

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest

from tests.support.contract import (
    assert_problem,
    assert_retry_after,
    born,
    days_in_greeting,
    describe,
    on_one_utc_day,
    smoke_username,
)
from tests.support.emulator import MotoServer
from tests.support.processes import wait_until
from tests.support.service_process import ServiceStarter

pytestmark = pytest.mark.timeout(90)

#: Every answer while the store is down comes within this: a quick 503, never a hang (the
#: service's deadline per store call is 1.5 s by default).
OUTAGE_ANSWER_SECONDS = 2.0
RECOVERY_SECONDS = 30.0


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as client:  # far above the deadline: a hang shows as slow
        yield client


def timed(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """The response, after asserting that it came within the outage deadline."""
    started = time.monotonic()
    response = client.send(request)
    elapsed = time.monotonic() - started
    assert elapsed < OUTAGE_ANSWER_SECONDS, f"{elapsed:.2f} s: {describe(response)}"
    return response


@pytest.fixture(scope="module")
def outage_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto server of these tests alone (one start saved per test)."""
    with MotoServer(tmp_path_factory.mktemp("outage") / "moto.log").running() as server:
        yield server


@pytest.fixture
def moto(outage_moto: MotoServer) -> MotoServer:
    """The outage tests' moto, serving, even if an earlier test failed while it was down."""
    outage_moto.revive()
    return outage_moto


@pytest.mark.parametrize("outage", ["killed", "frozen"])
def test_outage_is_a_quick_503_and_heals_without_restart(
    moto: MotoServer, start_service: ServiceStarter, client: httpx.Client, outage: str
) -> None:
    emulator = moto.emulator()
    table = emulator.create_table()
    service = start_service(emulator.store_env(table, store_timeout=None))
    user = f"{service.url}/hello/{smoke_username()}"
    body = {"dateOfBirth": "2000-01-01"}
    assert client.put(user, json=body).status_code == 204

    if outage == "killed":  # connections are refused
        moto.stop()
    else:  # connections are accepted, nothing ever answers
        moto.freeze()

    for method in ("GET", "PUT"):
        request = client.build_request(method, user, json=body if method == "PUT" else None)
        response = timed(client, request)
        assert_problem(response, 503)
        assert_retry_after(response)
    assert_problem(client.get(f"{service.url}/readyz"), 503)
    assert client.get(f"{service.url}/healthz").status_code == 200

    moto.revive()
    if outage == "killed":  # a new, empty moto on the same port
        emulator.create_table(table)

    def ready() -> bool:
        return client.get(f"{service.url}/readyz").status_code == 200

    wait_until(ready, timeout=RECOVERY_SECONDS, what="/readyz 200 after the store came back")
    assert not service.exited(), "the service recovered by itself, without a restart"

    def check(today: date) -> None:
        response = client.put(user, json={"dateOfBirth": born(4, today).isoformat()})
        assert response.status_code == 204, describe(response)
        assert days_in_greeting(client.get(user))[1] == 4

    on_one_utc_day(check)


def test_locked_sqlite_database_is_a_quick_503_for_writes_only(
    sqlite_store: dict[str, str], start_service: ServiceStarter, client: httpx.Client
) -> None:
    service = start_service(sqlite_store)
    name = smoke_username()
    user = f"{service.url}/hello/{name}"
    assert client.put(user, json={"dateOfBirth": "2000-01-01"}).status_code == 204
    writes = 3  # waiting on the lock one after another would take them past the deadline

    # Another process (this test) holds SQLite's write lock, as a stuck tool or writer would.
    path = sqlite_store["HELLO_STORE"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with ThreadPoolExecutor(writes) as pool:
            puts = [
                pool.submit(
                    timed, client, client.build_request("PUT", user, json={"dateOfBirth": day})
                )
                for day in ("2001-02-03", "2002-03-04", "2003-04-05")
            ]
            # While the writes wait, the event loop serves everything that needs no write lock.
            assert timed(client, client.build_request("GET", f"{service.url}/healthz")).is_success
            assert timed(client, client.build_request("GET", f"{service.url}/readyz")).is_success
            greeting = timed(client, client.build_request("GET", user))
            assert greeting.status_code == 200, describe(greeting)
            for put in puts:
                assert_problem(put.result(), 503)
                assert_retry_after(put.result())
    finally:
        holder.close()

    reader = sqlite3.connect(path)
    try:
        (stored,) = reader.execute(
            "SELECT date_of_birth FROM birthdays WHERE username = ?", (name,)
        ).fetchone()
    finally:
        reader.close()
    assert stored == "2000-01-01", "a refused write changed nothing"
    response = client.put(user, json={"dateOfBirth": "2001-02-03"})
    assert response.status_code == 204, "writes work again once the lock is gone"
