"""The embedded store: one SQLite file in WAL mode, shared safely by several worker processes.

Calls run on the event loop thread on purpose: a primary-key lookup or upsert on a local file
takes microseconds, less than a hop to a worker thread would cost. The slow steps stay off the
loop: a background thread runs the WAL checkpoint (with its fsync) every second, and a database
locked by another process is waited for with asyncio sleeps, not with SQLite's busy handler,
which would sleep on the loop's thread and stall every other request.

Reads are cached per worker. A read transaction costs two fcntl(2) calls for SQLite's shared
locks, and its engine's code is cold by the next request; a dict lookup costs neither. Every
worker's cache is emptied after any worker's write (a shared generation number, bumped after
each commit and read from memory by each GET), so a GET that starts after a PUT's 204 sees it,
whichever worker answers. A write made outside the service (the sqlite3 shell), or by a worker
killed between its commit and its bump, reaches a worker that cached the user only with the next
PUT or a restart.

Writes are committed in groups: the PUTs that reach the store in one pass of the event loop
share one transaction, and each answers once it is committed. A commit of its own took 33 to
38 us here, one of a group of twenty about 7.5 us; a group fails or succeeds as a whole.
"""

import asyncio
import contextlib
import sqlite3
import threading
from datetime import date
from typing import Any

from hello_birthday.store.base import StoreUnavailableError, parse_stored_date
from hello_birthday.store.generation import SharedGeneration

_SCHEMA = """
CREATE TABLE IF NOT EXISTS birthdays (
    username TEXT PRIMARY KEY NOT NULL,
    date_of_birth TEXT NOT NULL
) WITHOUT ROWID
"""
# As bytes: a value that is not UTF-8 (written outside the service) must not fail inside the
# driver, whose message would quote it; parse_stored_date reports it without its value.
_SELECT = "SELECT CAST(date_of_birth AS BLOB) FROM birthdays WHERE username = ?"
CHECKPOINT_INTERVAL_SECONDS = 1.0
#: Pauses between attempts on a locked database: short at first (another worker's commit takes
#: microseconds), then longer, until the store timeout.
FIRST_PAUSE_SECONDS = 0.001
LONGEST_PAUSE_SECONDS = 0.05
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
#: Users a worker's cache holds before it starts over, as names are anyone's input: 7 MiB of
#: 20-letter names, 19 MiB at most (64 letters outside the Basic Multilingual Plane).
CACHE_LIMIT = 50_000
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
            self._generation = SharedGeneration(f"{path}-generation")
        except (sqlite3.Error, OSError) as error:
            raise StoreUnavailableError(f"cannot open SQLite database {path!r}: {error}") from error
        # The dates of birth read (None: unknown users too) since the generation last moved.
        self._cache: dict[str, date | None] = {}
        self._cached_generation = self._generation.read()
        # Upserts waiting for the next group commit, and the task that commits them.
        self._writes: list[tuple[str, str, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
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
        generation = self._generation.read()
        if generation != self._cached_generation:
            self._cache.clear()
            self._cached_generation = generation
        try:
            return self._cache[username]
        except KeyError:
            pass
        # Read after the generation: a write committed since is either in this row or bumps the
        # generation past the one the row is cached under.
        row = await self._execute(_SELECT, (username,), "read")
        born = None if row is None else parse_stored_date(username, row[0])
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[username] = born
        return born

    async def put(self, username: str, born: date) -> None:
        committed = asyncio.get_running_loop().create_future()
        self._writes.append((username, born.isoformat(), committed))
        if self._writer is None or self._writer.done():
            # Its first step runs in the next pass, once this pass's other PUTs have queued.
            self._writer = asyncio.create_task(self._commit_writes())
        await committed

    async def _commit_writes(self) -> None:
        while self._writes:
            group, self._writes = self._writes, []
            try:
                await self._commit(group)
                # Before the 204s: no GET that starts after them can be answered from a cache.
                self._generation.bump()
            except Exception as error:  # every PUT of the group fails as the group did
                outcome: BaseException | None = error
            else:
                outcome = None
            for *_, committed in group:
                if committed.done():  # its request was cancelled
                    continue
                if outcome is None:
                    committed.set_result(None)
                else:
                    committed.set_exception(outcome)

    async def _commit(self, group: list[tuple[str, str, asyncio.Future[None]]]) -> None:
        # The write lock is waited for like any locked statement; from there on nothing awaits,
        # so no GET on this connection runs inside the transaction.
        await self._execute("BEGIN IMMEDIATE", (), "write")
        try:
            self._db.executemany(_UPSERT, [(username, born) for username, born, _ in group])
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"SQLite write failed: {error}") from error
        finally:
            if self._db.in_transaction:  # whatever failed, the next group must find none open
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")

    async def check(self) -> None:
        await self._execute("SELECT 1 FROM birthdays LIMIT 1", (), "check")

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer  # the last group commits before the connection closes
        self._closing.set()
        self._checkpointer.join()
        self._db.close()
        self._generation.close()
