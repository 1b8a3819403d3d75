"""The embedded store: one SQLite file in WAL mode, shared safely by several worker processes.

Calls run on the event loop thread on purpose: a primary-key lookup or upsert on a local file
takes microseconds, less than a hop to a worker thread would cost. The one slow step, the WAL
checkpoint with its fsync, is taken off the loop: a background thread runs it every second.
"""

import contextlib
import sqlite3
import threading
from datetime import date

from hello_birthday.store.base import StoreUnavailableError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS birthdays (
    username TEXT PRIMARY KEY NOT NULL,
    date_of_birth TEXT NOT NULL
) WITHOUT ROWID
"""
_SELECT = "SELECT date_of_birth FROM birthdays WHERE username = ?"
CHECKPOINT_INTERVAL_SECONDS = 1.0
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
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"cannot open SQLite database {path!r}: {error}") from error
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

    async def get(self, username: str) -> date | None:
        try:
            row = self._db.execute(_SELECT, (username,)).fetchone()
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"SQLite read failed: {error}") from error
        return None if row is None else date.fromisoformat(row[0])

    async def put(self, username: str, born: date) -> None:
        try:
            self._db.execute(_UPSERT, (username, born.isoformat()))
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"SQLite write failed: {error}") from error

    async def check(self) -> None:
        try:
            self._db.execute("SELECT 1 FROM birthdays LIMIT 1").fetchall()
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"SQLite check failed: {error}") from error

    async def close(self) -> None:
        self._closing.set()
        self._checkpointer.join()
        self._db.close()
