"""The embedded store: one SQLite file in WAL mode, shared safely by several worker processes.

Calls run on the event loop thread on purpose: a primary-key lookup or upsert on a local file
takes microseconds, less than a hop to a worker thread would cost. The slow steps stay off the
loop: a background thread runs the WAL checkpoint (with its fsync) every second, and a database
locked by another process is waited for with asyncio sleeps, not with SQLite's busy handler,
which would sleep on the loop's thread and stall every other request.
"""

import asyncio
import contextlib
import sqlite3
import threading
from datetime import date
from typing import Any

from hello_birthday.store.base import StoreUnavailableError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS birthdays (
    username TEXT PRIMARY KEY NOT NULL,
    date_of_birth TEXT NOT NULL
) WITHOUT ROWID
"""
_SELECT = "SELECT date_of_birth FROM birthdays WHERE username = ?"
CHECKPOINT_INTERVAL_SECONDS = 1.0
#: Pauses between attempts on a locked database: short at first (another worker's commit takes
#: microseconds), then longer, until the store timeout.
FIRST_PAUSE_SECONDS = 0.001
LONGEST_PAUSE_SECONDS = 0.05
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_UPSERT = """
INSERT INTO birthdays (username, date_of_birth) VALUES (?, ?)
ON CONFLICT (username) DO UPDATE SET date_of_birth = excluded.date_of_birth
"""


class SQLiteStore:
    def __init__(self, path: str, timeout: float) -> None:
        try:
            # Autocommit (isolation_level=None): every upsert is its own durable transaction.
            # check_same_thread=False: the connection is only used from the event loop thread,
            # which need not be the thread that opened it.
            self._db = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            # WAL lets readers in other worker processes proceed while one writes; NORMAL
            # synchronisation keeps every commit across a process crash (fsync at checkpoints).
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # No checkpoint inside a commit: _checkpoint_periodically does them off the loop.
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._db.execute(_SCHEMA)
            # From here on a locked database fails at once, and _execute waits without blocking.
            self._db.execute("PRAGMA busy_timeout=0")
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"cannot open SQLite database {path!r}: {error}") from error
        self._timeout = timeout
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_periodically,
            args=(path, timeout),
            name="sqlite-checkpoint",
            daemon=True,
        )
        self._checkpointer.start()

    def _checkpoint_periodically(self, path: str, timeout: float) -> None:
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        try:
            while not self._closing.wait(CHECKPOINT_INTERVAL_SECONDS):
                # PASSIVE never blocks readers or writers; a busy database just waits a turn.
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    async def _execute(self, statement: str, parameters: tuple[str, ...], action: str) -> Any:
        """Run one statement, its first row back; a locked database is retried until the store
        timeout."""
        deadline: float | None = None
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                return self._db.execute(statement, parameters).fetchone()
            except sqlite3.Error as error:
                # Extended codes (BUSY_SNAPSHOT, BUSY_RECOVERY...) carry the primary one in their
                # low byte; errors of the sqlite3 module itself (a bad stored value) have none.
                if getattr(error, "sqlite_errorcode", 0) & 0xFF not in _LOCKED:
                    raise StoreUnavailableError(f"SQLite {action} failed: {error}") from error
                loop = asyncio.get_running_loop()
                if deadline is None:
                    deadline = loop.time() + self._timeout
                if loop.time() + pause > deadline:
                    raise StoreUnavailableError(
                        f"SQLite {action} failed: still locked after {self._timeout:g} s"
                    ) from error
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    async def get(self, username: str) -> date | None:
        row = await self._execute(_SELECT, (username,), "read")
        return None if row is None else date.fromisoformat(row[0])

    async def put(self, username: str, born: date) -> None:
        await self._execute(_UPSERT, (username, born.isoformat()), "write")

    async def check(self) -> None:
        await self._execute("SELECT 1 FROM birthdays LIMIT 1", (), "check")

    async def close(self) -> None:
        self._closing.set()
        self._checkpointer.join()
        self._db.close()
