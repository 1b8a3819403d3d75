"""The store interface that the app depends on and every store implements."""

from datetime import date
from typing import Protocol


class StoreUnavailableError(Exception):
    """The store could not answer in time; the request may be retried later."""


class Store(Protocol):
    """A durable map from a normalised username to a date of birth."""

    async def get(self, username: str) -> date | None:
        """The stored date of birth, or None for an unknown user."""

    async def put(self, username: str, born: date) -> None:
        """Create or replace the user's date of birth."""

    async def check(self) -> None:
        """Raise StoreUnavailableError unless the store can serve requests now."""

    async def close(self) -> None:
        """Release connections; called once at shutdown."""
