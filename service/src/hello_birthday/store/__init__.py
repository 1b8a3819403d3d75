"""Where dates of birth live: one small interface, and the store that the settings name."""

from hello_birthday.settings import Settings, parse_store_url
from hello_birthday.store.base import InvalidStoredDataError, Store, StoreUnavailableError
from hello_birthday.store.sqlite import SQLiteStore

__all__ = [
    "InvalidStoredDataError",
    "Store",
    "StoreUnavailableError",
    "open_store",
]


def open_store(settings: Settings) -> Store:
    """Open the store that HELLO_STORE names, with the time bounds and AWS options it needs."""
    kind, location = parse_store_url(settings.store_url)
    if kind == "sqlite":
        return SQLiteStore.open(location, lock_wait=settings.sqlite_lock_wait)
    # Settings.from_env refuses this at start; settings built otherwise are refused here.
    if settings.aws_region is None:
        raise StoreUnavailableError("the DynamoDB store needs AWS_REGION (or AWS_DEFAULT_REGION)")
    # Imported only when used: aiohttp costs memory and start time the SQLite store never pays.
    from hello_birthday.store.dynamodb import DynamoDBStore  # noqa: PLC0415

    return DynamoDBStore(
        location,
        region=settings.aws_region,
        endpoint=settings.dynamodb_endpoint,
        attempt_timeout=settings.dynamodb_attempt_timeout,
        call_deadline=settings.dynamodb_call_deadline,
    )
