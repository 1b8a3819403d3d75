"""The store interface that the app depends on and every store implements."""

from datetime import date
from typing import Protocol

from hello_birthday.birthdays import ISO_CALENDAR_DATE


class StoreUnavailableError(Exception):
    """The store could not answer in time; the request may be retried later."""


class InvalidStoredDataError(Exception):
    """A stored date of birth is not a date: written outside the service, or damaged.

    Its message names the user, never the stored value: a date of birth is personal data.
    """


def parse_stored_date(username: str, value: object) -> date:
    """The date a store holds for a user, which must be as the service writes it: YYYY-MM-DD."""
    try:
        text = value.decode() if isinstance(value, bytes) else value
        if isinstance(text, str) and ISO_CALENDAR_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:  # not UTF-8, or no such day: either way not a date
        pass
    raise InvalidStoredDataError(f"the date of birth stored for {username} is not a date")


class Store(Protocol):
    """A durable map from a normalised username to a date of birth."""

    async def get(self, username: str) -> date | None:
        """The stored date of birth, or None for an unknown user.

        Raises InvalidStoredDataError when the stored value is not a date.
        """

    async def put(self, username: str, born: date) -> None:
        """Create or replace the user's date of birth."""

    async def check(self) -> None:
        """Raise StoreUnavailableError unless the store can serve requests now."""

    async def close(self) -> None:
        """Release connections; called once at shutdown."""
