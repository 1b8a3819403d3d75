"""The DynamoDB emulator (moto's server), and direct boto3 GetItems to read the service against."""

import os
import shutil
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from hello_birthday.store.schema import PARTITION_KEY, create_table_request
from tests.bench.load import Measurement
from tests.bench.seed import username
from tests.bench.servers import Server, running

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "hello-birthday-bench"
REGION = "us-east-1"
#: Made-up credentials for the emulator; real ones are never read.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


@contextmanager
def emulator(workdir: Path) -> Iterator[Server]:
    """moto's DynamoDB server on a free loopback port, with the service's table created."""
    moto_server = shutil.which("moto_server")
    if moto_server is None:
        raise SystemExit("moto_server is missing: install the bench group (moto[server])")
    with running(
        "moto",
        lambda port: [moto_server, "-H", "127.0.0.1", "-p", str(port)],
        os.environ,
        workdir / "moto.log",
        ready_path="/moto-api/",
    ) as server:
        client(server.url).create_table(**create_table_request(TABLE))
        yield server


def service_env(endpoint: str) -> dict[str, str]:
    """What the service needs to use the emulator's table through boto3's standard chain."""
    return {
        "HELLO_STORE": f"dynamodb://{TABLE}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        **CREDENTIALS,
    }


def client(endpoint: str) -> "DynamoDBClient":
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


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
