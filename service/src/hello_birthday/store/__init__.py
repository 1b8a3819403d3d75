"""Where dates of birth live: one small interface, chosen at start by the HELLO_STORE URL."""

from hello_birthday.store.base import Store, StoreUnavailableError
from hello_birthday.store.sqlite import SQLiteStore

__all__ = ["Store", "StoreUnavailableError", "open_store"]


def open_store(url: str, timeout: float) -> Store:
    """Open the store named by a ``sqlite:///path`` or ``dynamodb://TABLE`` URL."""
    scheme, separator, location = url.partition("://")
    if scheme == "sqlite" and separator and location.startswith("/") and len(location) > 1:
        return SQLiteStore(location[1:], timeout)
    if scheme == "dynamodb" and separator and location:
        # Imported only when used: boto3 costs memory and start time the SQLite store never pays.
        from hello_birthday.store.dynamodb import DynamoDBStore  # noqa: PLC0415

        return DynamoDBStore(location, timeout)
    raise ValueError(
        f"HELLO_STORE={url!r} is not sqlite:///path/to/file.db or dynamodb://TABLE_NAME"
    )
