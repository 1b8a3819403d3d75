"""Error lines for failures that can repeat on every request, at a rate an outage cannot raise.

The first failure is logged at once, with its cause. Those that follow within the next
interval get no line of their own: at the interval's end one line gives the last one's cause
and how many there were (`count`); a failure after a quiet interval is again logged at once.
So an outage writes one line at its start and then one per interval, however many requests
fail, and none of its failures goes uncounted.
"""

import asyncio
import logging
from typing import Final

from hello_birthday.logs import LOGGER

#: Seconds between two lines of one FailureLog.
INTERVAL_SECONDS: Final = 10.0


class FailureLog:
    """Error lines about one kind of failure; used from the event loop's thread only."""

    def __init__(
        self, what: str, logger: logging.Logger = LOGGER, interval: float = INTERVAL_SECONDS
    ) -> None:
        self._what = what
        self._logger = logger
        self._interval = interval
        self._quiet_until = float("-inf")  # no line due before this loop time
        self._unlogged = 0
        self._last_cause = ""
        self._summary: asyncio.TimerHandle | None = None

    def record(self, cause: str) -> None:
        """One failure; its cause must not hold personal data (a date of birth)."""
        loop = asyncio.get_running_loop()
        if self._summary is None and loop.time() >= self._quiet_until:
            self._write(cause, count=1)
            return
        self._unlogged += 1
        self._last_cause = cause
        if self._summary is None:
            self._summary = loop.call_at(self._quiet_until, self.flush)

    def flush(self) -> None:
        """Write the line of the failures not logged yet, if any (also called at shutdown)."""
        if self._summary is not None:
            self._summary.cancel()
            self._summary = None
        if self._unlogged:
            self._write(self._last_cause, count=self._unlogged)
            self._unlogged = 0

    def _write(self, cause: str, count: int) -> None:
        self._quiet_until = asyncio.get_running_loop().time() + self._interval
        message = f"{self._what}: {cause}"
        if self._unlogged:
            message += f" (the last of {count} since the previous line)"
        self._logger.error(message, extra={"fields": {"count": count}})
