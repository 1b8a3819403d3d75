"""The DynamoDB emulator of the benchmark, and direct GetItems to read the service against.

The emulator is the integration tests' own moto server and table set-up.
"""

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hello_birthday.store.schema import PARTITION_KEY
from tests.bench.load import Measurement
from tests.bench.seed import username
from tests.integration.emulator import Emulator, MotoServer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "hello-birthday-bench"


@contextmanager
def emulator(workdir: Path) -> Iterator[Emulator]:
    """moto's DynamoDB server on a free loopback port, with the service's table created."""
    moto = MotoServer(workdir / "moto.log")
    moto.start()
    try:
        found = moto.emulator()
        found.create_table(TABLE)
        yield found
    finally:
        moto.stop()


def service_env(found: Emulator) -> dict[str, str]:
    """What points the service at the table, its store timeout left at the production default."""
    return found.store_env(TABLE, store_timeout=None)


def time_get_item(dynamodb: "DynamoDBClient", users: int, seconds: float) -> Measurement:
    """GetItem after GetItem (concurrency 1) for the given seconds, each call timed in-process."""
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    while (started := time.perf_counter()) < deadline or len(timings) < 2:
        key = {PARTITION_KEY: {"S": username(len(timings) % users)}}
        # The same request as the service's store makes, so only the service's own cost differs.
        dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
        timings.append(time.perf_counter() - started)
    return Measurement(
        rps=len(timings) / sum(timings),
        p50_ms=statistics.median(timings) * 1000,
        p99_ms=statistics.quantiles(timings, n=100)[98] * 1000,
    )
