"""Today's date in the service's time zone, converted once per quarter hour, not per request."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final

#: Reads the current instant as an aware datetime.
Clock = Callable[[], datetime]
QUARTER_HOUR: Final = timedelta(minutes=15)
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


def utc_now() -> datetime:
    """The service's clock: its UTC tzinfo is the one the cached range carries."""
    return datetime.now(UTC)


class Today:
    """The clock's date in a time zone, as a callable the request path asks on every call.

    Converting an instant to a time zone costs more than the rest of a GET's date arithmetic.
    A quarter hour of UTC whose first and last microsecond fall on the same local date at the
    same UTC offset is that date throughout (no zone changes its offset twice in 15 minutes), so
    the date is kept for the rest of it. A quarter hour with a midnight, a daylight-saving change
    or an off-quarter offset inside is never kept: every call there converts.
    """

    def __init__(self, clock: Clock, timezone: tzinfo) -> None:
        self._clock = clock
        self._timezone = timezone
        self._start = self._end = _NEVER  # an empty range: the first call converts
        self._date = date.min

    def __call__(self) -> date:
        now = self._clock()
        # datetime.now(UTC) and the range share their tzinfo: compared field by field.
        if self._start <= now < self._end:
            return self._date
        return self._convert(now)

    def _convert(self, now: datetime) -> date:
        today = now.astimezone(self._timezone).date()
        utc = now.astimezone(UTC)
        start = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
        end = start + QUARTER_HOUR
        first = start.astimezone(self._timezone)
        last = (end - timedelta.resolution).astimezone(self._timezone)
        if first.date() == last.date() == today and first.utcoffset() == last.utcoffset():
            self._start, self._end, self._date = start, end, today
        return today
