"""Statements on a SQLite connection that wait for a locked database without blocking the loop.

SQLite's own busy handler sleeps in the calling thread: on the event loop's thread it would
stall every other request, /healthz included. So the store's connection fails at once on a lock
(busy_timeout=0), and an attempt that finds the database busy is tried again after an asyncio
sleep, until its deadline.
"""

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, Final, TypeVar

from hello_birthday.store.base import StoreUnavailableError

T = TypeVar("T")
#: Pauses between attempts on a locked database: short at first (another worker's commit takes
#: microseconds), then longer, until the deadline. Never long: a checkpoint holds the lock for
#: milliseconds every second, and a PUT should wait about that long, not twice as long.
FIRST_PAUSE_SECONDS: Final = 0.001
LONGEST_PAUSE_SECONDS: Final = 0.005
_LOCKED: Final = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class BusyError(Exception):
    """Not yet: another connection holds what the attempt needs (a lock, the log's space)."""


def _code(error: sqlite3.Error) -> int:
    """The primary result code; errors of the sqlite3 module itself have none (0)."""
    # Extended codes (BUSY_SNAPSHOT, READONLY_DBMOVED...) carry the primary one in their low byte.
    code: int = getattr(error, "sqlite_errorcode", 0)
    return code & 0xFF


class LockAwareExecutor:
    """Runs statements on the connection that connection() returns, again while the database is
    locked, with asyncio sleeps in between, for at most lock_wait seconds (or to a deadline)."""

    def __init__(self, connection: Callable[[], sqlite3.Connection], lock_wait: float) -> None:
        self._connection = connection
        self._lock_wait = lock_wait

    async def retry(
        self, attempt: Callable[[], T], action: str, deadline: float | None = None
    ) -> T:
        """attempt(), again while it raises BusyError, until the deadline (a loop time), by
        default lock_wait from the first time it was busy; then StoreUnavailableError."""
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                return attempt()
            except BusyError as wait:
                loop = asyncio.get_running_loop()
                if deadline is None:
                    deadline = loop.time() + self._lock_wait
                if loop.time() + pause > deadline:
                    raise StoreUnavailableError(
                        f"SQLite {action} failed: {wait} after {self._lock_wait:g} s"
                    ) from wait
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    async def execute(
        self,
        statement: str,
        parameters: tuple[str, ...],
        action: str,
        deadline: float | None = None,
    ) -> Any:
        """Run one statement, its first row back; a locked database is waited for as retry()
        waits. Any other SQLite error is a StoreUnavailableError naming the action at once."""
        return await self.retry(lambda: self._step(statement, parameters, action), action, deadline)

    def _step(self, statement: str, parameters: tuple[str, ...], action: str) -> Any:
        try:
            return self._connection().execute(statement, parameters).fetchone()
        except sqlite3.Error as error:
            if _code(error) in _LOCKED:
                raise BusyError("still locked") from error
            raise StoreUnavailableError(f"SQLite {action} failed: {error}") from error
