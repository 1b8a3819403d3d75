"""The AWS store: one DynamoDB table keyed by username, reached with aiodynamo over aiohttp.

Calls run on the event loop itself: no thread to wake for each call, nor the loop again after
it. Each attempt has a timeout and each call, its one retry included, a deadline, so an outage
becomes a quick 503 instead of a hung request.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Final, TypeVar

import aiohttp
from aiodynamo.client import Client
from aiodynamo.credentials import Credentials, Key
from aiodynamo.errors import (
    ExpiredToken,
    InternalDynamoError,
    ItemNotFound,
    ProvisionedThroughputExceeded,
    RequestLimitExceeded,
    ServiceUnavailable,
    Throttled,
)
from aiodynamo.http.aiohttp import AIOHTTP
from aiodynamo.http.types import HttpImplementation
from aiodynamo.models import StaticDelayRetry
from yarl import URL

from hello_birthday.store.base import StoreUnavailableError, parse_stored_date
from hello_birthday.store.schema import DATE_OF_BIRTH, PARTITION_KEY

T = TypeVar("T")
#: One retry after a transient failure: a blip is absorbed, an outage surfaces fast.
RETRY_PAUSE_SECONDS: Final = 0.025
_TRANSIENT: Final = (
    TimeoutError,
    aiohttp.ClientError,
    Throttled,
    ProvisionedThroughputExceeded,
    RequestLimitExceeded,
    ServiceUnavailable,
    InternalDynamoError,
    ExpiredToken,  # aiodynamo has already dropped the credentials: the retry fetches new ones
)
# aiodynamo's own retries would run until a time limit and then report their last error only
# when that limit cut them off: with a limit of 0 it makes one attempt and raises its error.
_ONE_ATTEMPT: Final = StaticDelayRetry(time_limit_secs=0)


class _SharedLookups(Credentials):
    """aiodynamo's credentials chain, each lookup shielded from its caller's cancellation.

    Calls that need fresh credentials at the same time wait for one shared refresh: without the
    shield, one call's deadline would cancel the refresh under all the others, and it would
    send the chain on to its next providers (the instance role's endpoint) past the deadline.
    """

    def __init__(self, chain: Credentials) -> None:
        self._chain = chain

    async def get_key(self, http: HttpImplementation) -> Key | None:
        return await asyncio.shield(self._chain.get_key(http))

    def invalidate(self) -> bool:
        return self._chain.invalidate()

    def is_disabled(self) -> bool:
        return self._chain.is_disabled()


async def _retried_once(operation: Callable[[], Awaitable[T]]) -> T:
    try:
        return await operation()
    except _TRANSIENT:
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
    return await operation()


class DynamoDBStore:
    def __init__(
        self,
        table: str,
        *,
        region: str,
        endpoint: str | None,
        attempt_timeout: float,
        call_deadline: float,
    ) -> None:
        """A store on the table: endpoint None is AWS's own; attempt_timeout bounds each attempt
        (connecting, sending, reading the answer), call_deadline a whole call, retry included."""
        # Opened inside the running event loop (the application's lifespan), as aiohttp requires.
        timeout = aiohttp.ClientTimeout(total=attempt_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout)
        # Credentials: the environment, ~/.aws, then the ECS task role (or EC2 instance role).
        self._table = Client(
            AIOHTTP(self._session),
            _SharedLookups(Credentials.auto()),
            region,
            endpoint=URL(endpoint) if endpoint else None,
            throttle_config=_ONE_ATTEMPT,
        ).table(table)
        self._deadline = call_deadline

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        deadline = asyncio.timeout(self._deadline)
        try:
            async with deadline:
                return await _retried_once(operation)
        # Whatever fails in the client (its errors, aiohttp's, a credentials lookup, an answer not
        # shaped as it should be) is the store being unavailable: a 503, not a 500.
        except Exception as error:
            if isinstance(error, TimeoutError) and deadline.expired():
                message = f"DynamoDB did not answer within {self._deadline:.1f} s"
            else:
                message = f"DynamoDB call failed: {error!r}"
            raise StoreUnavailableError(message) from error

    async def _get_item(self, username: str) -> dict[str, Any] | None:
        try:
            # A PUT followed by a GET must see the new date.
            item: dict[str, Any] = await self._table.get_item(
                {PARTITION_KEY: username}, consistent_read=True
            )
        except ItemNotFound:
            return None
        return item

    async def get(self, username: str) -> date | None:
        item = await self._call(lambda: self._get_item(username))
        # Outside the call: an item that is not as the service writes it is a data error, not
        # an unavailable store, and retrying would not change it.
        return None if item is None else parse_stored_date(username, item.get(DATE_OF_BIRTH))

    async def put(self, username: str, born: date) -> None:
        await self._call(
            lambda: self._table.put_item({PARTITION_KEY: username, DATE_OF_BIRTH: born.isoformat()})
        )

    async def check(self) -> None:
        await self._call(self._table.describe)

    async def close(self) -> None:
        await self._session.close()
