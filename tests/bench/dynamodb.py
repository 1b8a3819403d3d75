"""The DynamoDB rows: moto, and the service's GET timed in turns with two direct calls.

The emulator is the test suites' own moto server and table set-up (tests.support). Beside the
service's GET at concurrency 1 the harness times boto3's GetItem, which docs/performance.md's
target compares the GET with, and the service's own store call in-process, so that a difference
between the two clients is counted neither to the service nor for it. The three take turns call
by call: moto's speed drifts by a millisecond or more from one 10 s window to the next, more
than the target's margin, and only calls made in turns meet the same emulator.
"""

import http.client
import itertools
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

import uvloop

from hello_birthday.settings import Settings
from hello_birthday.store import open_store
from hello_birthday.store.schema import PARTITION_KEY
from tests.bench import report
from tests.bench.load import Measurement
from tests.bench.seed import username
from tests.support.emulator import Emulator, MotoServer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "hello-birthday-bench"


@contextmanager
def emulator(workdir: Path) -> Iterator[Emulator]:
    """moto's DynamoDB server on a free loopback port, with the service's table created."""
    with MotoServer(workdir / "moto.log").running() as moto:
        found = moto.emulator()
        found.create_table(TABLE)
        yield found


def service_env(found: Emulator) -> dict[str, str]:
    """What points the service at the table, its store timeout left at the production default."""
    return found.store_env(TABLE, store_timeout=None)


def time_in_turns(
    direct: "DynamoDBClient", port: int, env: Mapping[str, str], users: int, seconds: float
) -> dict[str, Measurement]:
    """The service's GET, boto3's GetItem and the service's store call in turns, for `seconds`.

    The service (on `port`) is asked over one keep-alive connection with the standard library's
    client, whose own work counts against the service. The store call runs in this process on
    uvloop, configured by `env` as the service is. Each call is timed on its own.
    """
    with mock.patch.dict(os.environ, env, clear=True):
        return uvloop.run(_time_in_turns(direct, port, users, seconds))


async def _time_in_turns(
    direct: "DynamoDBClient", port: int, users: int, seconds: float
) -> dict[str, Measurement]:
    # Opened as the service opens it, from the same settings.
    settings = Settings.from_env()
    store = open_store(settings)
    service = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    failed = 0

    async def through_service(user: str) -> None:
        nonlocal failed
        service.request("GET", f"/hello/{user}")
        with service.getresponse() as response:
            response.read()
            failed += response.status != 200

    async def get_item(user: str) -> None:
        # The request the service's store makes.
        key = {PARTITION_KEY: {"S": user}}
        direct.get_item(TableName=TABLE, Key=key, ConsistentRead=True)

    calls: dict[str, Callable[[str], Awaitable[object]]] = {
        report.GET_DYNAMODB: through_service,
        report.GET_ITEM_DIRECT: get_item,
        report.STORE_DIRECT: store.get,
    }
    # Every order of the three in turn, so that none follows another more often than not.
    orders = list(itertools.permutations(calls))
    timings: dict[str, list[float]] = {name: [] for name in calls}
    try:
        deadline = time.perf_counter() + seconds
        turn = 0
        while time.perf_counter() < deadline or turn < 2:
            user = username(turn % users)
            for name in orders[turn % len(orders)]:
                started = time.perf_counter()
                await calls[name](user)
                timings[name].append(time.perf_counter() - started)
            turn += 1
    finally:
        service.close()
        await store.close()
    measured = {name: _measurement(each) for name, each in timings.items()}
    measured[report.GET_DYNAMODB] = replace(measured[report.GET_DYNAMODB], errors=failed)
    return measured


def _measurement(timings: list[float]) -> Measurement:
    """Calls made one after another (concurrency 1), each timed in-process."""
    return Measurement(
        rps=len(timings) / sum(timings),
        p50_ms=statistics.median(timings) * 1000,
        p99_ms=statistics.quantiles(timings, n=100)[98] * 1000,
    )
