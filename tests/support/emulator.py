"""DynamoDB wire-protocol endpoints for the tests: what every suite needs to know of one, and
moto's server, the one that runs offline. A developer's LocalStack is found by `localstack`."""

import os
import signal
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import boto3

from hello_birthday.store.schema import create_table_request

from .processes import ChildProcess, free_port

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION: Final = "us-east-1"
DUMMY_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}
MOTO_START_SECONDS: Final = 60.0
#: moto answers in milliseconds when idle but in seconds on a busy 2-core machine, and the tests
#: of correctness under load must not mistake a slow emulator for a store outage.
EMULATOR_STORE_TIMEOUT: Final = 5.0


@dataclass(frozen=True)
class Emulator:
    """A DynamoDB wire-protocol endpoint and how to build a client for it."""

    name: str
    endpoint_url: str
    client: "Callable[[], DynamoDBClient]"

    def create_table(self, table: str | None = None) -> str:
        """An empty table from the service's own key schema (a new name by default); its name."""
        table = table or f"hello-birthday-it-{uuid.uuid4().hex[:12]}"
        client = self.client()
        client.create_table(**create_table_request(table))
        client.get_waiter("table_exists").wait(
            TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        return table

    @contextmanager
    def table(self) -> Iterator[str]:
        """A new empty table, deleted afterwards: a developer's LocalStack keeps no test tables."""
        name = self.create_table()
        try:
            yield name
        finally:
            self.client().delete_table(TableName=name)

    def aws_env(self) -> dict[str, str]:
        """The environment that sends boto3, the service's included, here with dummy
        credentials."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, **DUMMY_CREDENTIALS}

    def store_env(
        self, table: str, *, store_timeout: float | None = EMULATOR_STORE_TIMEOUT
    ) -> dict[str, str]:
        """The environment that points a service process at this table.

        store_timeout None keeps the service's own default (the outage tests test that one).
        """
        env = {"HELLO_STORE": f"dynamodb://{table}"}
        if store_timeout is not None:
            env["HELLO_STORE_TIMEOUT"] = str(store_timeout)
        return {**env, **self.aws_env()}


class MotoServer:
    """moto's server on a private loopback port, owned by PID: LocalStack's stand-in offline.

    It keeps its port across stop() and start(), so a service pointed at it sees an outage and a
    recovery of the same endpoint. Its data lives in memory: a restart starts empty.
    """

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self._child = ChildProcess(argv, os.environ, log_path)

    def start(self) -> None:
        self._child.start_serving(self.endpoint_url, timeout=MOTO_START_SECONDS)

    def stop(self) -> None:
        self._child.stop()

    @contextmanager
    def running(self) -> Iterator["MotoServer"]:
        """Serving for the block; stopped when it ends, however it ends (a signal while moto
        starts included)."""
        try:
            self.start()
            yield self
        finally:
            self.stop()

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers, as in a network hang."""
        self._child.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._child.signal(signal.SIGCONT)

    def revive(self) -> None:
        """Serving again, whether it was stopped or frozen (its tables survive only a freeze)."""
        if self._child.exited():
            self.start()
        else:
            self.thaw()

    def emulator(self) -> Emulator:
        return Emulator("moto_server", self.endpoint_url, self._client)

    def _client(self) -> "DynamoDBClient":
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
