"""The AWS store: one DynamoDB table keyed by username, reached with botocore.

botocore, not boto3: boto3 adds nothing this store uses, and its import (s3transfer with it)
costs start time and memory. botocore blocks, so calls run in a pool of threads; every call has
a hard deadline so an outage becomes a quick 503 instead of a hung request.
"""

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, TypeVar, cast

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hello_birthday.store.base import StoreUnavailableError
from hello_birthday.store.schema import DATE_OF_BIRTH, PARTITION_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
#: Concurrent DynamoDB calls per process (threads, and HTTP connections in the client's pool).
THREADS = 32


class DynamoDBStore:
    def __init__(self, table: str, timeout: float) -> None:
        self._table = table
        # Standard retry mode with one retry: a blip is absorbed, an outage surfaces fast.
        # total_max_attempts counts the first try; botocore's max_attempts would count retries.
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "total_max_attempts": 2},
            max_pool_connections=THREADS,
        )
        # botocore reads AWS_DEFAULT_REGION but not AWS_REGION, the variable most AWS runtimes set.
        client = botocore.session.get_session().create_client(
            "dynamodb", region_name=os.environ.get("AWS_REGION"), config=config
        )
        self._client = cast("DynamoDBClient", client)
        # The SDK's own timeouts bound each attempt; this bounds the whole call, retries included.
        # A call cut off by it leaves its thread to finish within the SDK's timeouts; when every
        # thread is busy, new calls wait in the queue and time out the same way: never a hang.
        self._deadline = timeout * 1.5
        # Plain asyncio executor hop: about half the cost of anyio.to_thread's on this path.
        self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="dynamodb")

    async def _call(self, operation: Callable[[], T]) -> T:
        try:
            async with asyncio.timeout(self._deadline):
                return await asyncio.get_running_loop().run_in_executor(self._threads, operation)
        except TimeoutError as error:
            raise StoreUnavailableError(
                f"DynamoDB did not answer within {self._deadline:.1f} s"
            ) from error
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailableError(f"DynamoDB call failed: {error}") from error

    async def get(self, username: str) -> date | None:
        response = await self._call(
            lambda: self._client.get_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": username}},
                # A PUT followed by a GET must see the new date.
                ConsistentRead=True,
            )
        )
        item = response.get("Item")
        return None if item is None else date.fromisoformat(item[DATE_OF_BIRTH]["S"])

    async def put(self, username: str, born: date) -> None:
        await self._call(
            lambda: self._client.put_item(
                TableName=self._table,
                Item={PARTITION_KEY: {"S": username}, DATE_OF_BIRTH: {"S": born.isoformat()}},
            )
        )

    async def check(self) -> None:
        await self._call(lambda: self._client.describe_table(TableName=self._table))

    async def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self._client.close()
