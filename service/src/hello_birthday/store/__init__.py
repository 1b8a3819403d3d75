"""Where dates of birth live: one small interface, chosen at start by the HELLO_STORE URL."""

import os
import re
from collections.abc import Mapping
from typing import Final, Literal

from hello_birthday.store.base import InvalidStoredDataError, Store, StoreUnavailableError
from hello_birthday.store.sqlite import SQLiteStore

__all__ = [
    "InvalidStoredDataError",
    "Store",
    "StoreUnavailableError",
    "aws_region",
    "open_store",
    "parse_store_url",
]

StoreKind = Literal["sqlite", "dynamodb"]
#: DynamoDB's own rule for table names: a bad one is refused at start, not on every call.
_TABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def parse_store_url(url: str) -> tuple[StoreKind, str]:
    """Split ``sqlite:///path`` or ``dynamodb://TABLE`` into the kind and the path or table."""
    scheme, separator, location = url.partition("://")
    if scheme == "sqlite" and separator and location.startswith("/") and len(location) > 1:
        return "sqlite", location[1:]
    if scheme == "dynamodb" and separator and _TABLE_NAME.fullmatch(location):
        return "dynamodb", location
    raise ValueError(
        f"HELLO_STORE={url!r} is not sqlite:///path/to/file.db or dynamodb://TABLE_NAME "
        "(3 to 255 of A-Z, a-z, 0-9, _, . and -)"
    )


def aws_region(env: Mapping[str, str] = os.environ) -> str | None:
    """The DynamoDB store's region, from the variables AWS runtimes and SDKs use (ECS sets both)."""
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None


def open_store(url: str, timeout: float) -> Store:
    """Open the store that a HELLO_STORE URL names."""
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return SQLiteStore.open(location, lock_wait=timeout)
    # Imported only when used: aiohttp costs memory and start time the SQLite store never pays.
    from hello_birthday.store.dynamodb import DynamoDBStore  # noqa: PLC0415

    return DynamoDBStore(location, timeout)
