"""The embedded store: one SQLite file in WAL mode, shared safely by several worker processes.

Calls run on the event loop thread on purpose: a primary-key lookup or upsert on a local file
takes microseconds, less than a hop to a worker thread would cost. The slow steps stay off the
loop: a background thread runs the WAL checkpoints (hello_birthday.store.checkpoint, which also
explains how the log is kept small), and a database locked by another process, or a log over its
limit, is waited for with asyncio sleeps, not with SQLite's busy handler, which would sleep on
the loop's thread and stall every other request.

Reads are cached per worker. A read transaction costs two fcntl(2) calls for SQLite's shared
locks, and its engine's code is cold by the next request; a dict lookup costs neither. Every
worker's cache is emptied after any worker's write (a shared generation number, bumped after
each commit and read from memory by each GET), so a GET that starts after a PUT's 204 sees it,
whichever worker answers. A write made outside the service (the sqlite3 shell), or by a worker
killed between its commit and its bump, reaches a worker that cached the user only with the next
PUT or a restart.

Writes are committed in groups: the PUTs that reach the store in one pass of the event loop
share one transaction, and each answers once it is committed. A commit of its own took 33 to 38
us here, one of a group of twenty about 7.5 us; a group fails or succeeds as a whole. A write
waits for a locked database at most the store timeout from its arrival, queued behind a group
that waited first or not. Before and after each commit the database and its log at their paths
must still be the files this worker opened (hello_birthday.store.files): a write into a file
deleted or replaced meanwhile is answered with an error, never acknowledged. No commit starts
while the log is over WAL_LIMIT_BYTES: that only happens when checkpoints cannot complete
(another connection keeps an old snapshot open), and then writes wait for one, up to the store
timeout, rather than fill the disk.

Readiness (check) asks for what requests need: the files are the store's, a read works, and,
when no write has succeeded since the last failure (or since the start), a write works: one
upsert of a single-row table, readiness_probe. So readiness writes nothing while writes
succeed, and turns ready again by itself once they can (space freed on a full disk, say). A
database file that is read-only at start is not opened until it can be written (see
_connection): until then every call fails, readiness included.
"""

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Callable
from datetime import date
from typing import Any, Final, TypeVar

from hello_birthday.store.base import StoreUnavailableError, parse_stored_date
from hello_birthday.store.checkpoint import CHECKPOINT_BUSY_SECONDS, WAL_RESET_BYTES, Checkpointer
from hello_birthday.store.files import StoreFiles
from hello_birthday.store.generation import SharedGeneration

T = TypeVar("T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS birthdays (
    username TEXT PRIMARY KEY NOT NULL,
    date_of_birth TEXT NOT NULL
) WITHOUT ROWID
"""
# As bytes: a value that is not UTF-8 (written outside the service) must not fail inside the
# driver, whose message would quote it; parse_stored_date reports it without its value.
_SELECT = "SELECT CAST(date_of_birth AS BLOB) FROM birthdays WHERE username = ?"
_UPSERT = """
INSERT INTO birthdays (username, date_of_birth) VALUES (?, ?)
ON CONFLICT (username) DO UPDATE SET date_of_birth = excluded.date_of_birth
"""
# Created by the first probe rather than at open, so that a read-only file opens all the same.
_PROBE_SCHEMA = """
CREATE TABLE IF NOT EXISTS readiness_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    writes INTEGER NOT NULL
)
"""
# A new value each time: SQLite writes nothing for a row set to the value it holds.
_PROBE = """
INSERT INTO readiness_probe (id, writes) VALUES (1, 1)
ON CONFLICT (id) DO UPDATE SET writes = writes + 1
"""
#: Pauses between attempts on a locked database: short at first (another worker's commit takes
#: microseconds), then longer, until the store timeout. Never long: a checkpoint holds the lock
#: for milliseconds every second, and a PUT should wait about that long, not twice as long.
FIRST_PAUSE_SECONDS = 0.001
LONGEST_PAUSE_SECONDS = 0.005
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
#: Users a worker's cache holds before it starts over, as names are anyone's input: 7 MiB of
#: 20-letter names, 19 MiB at most (64 letters outside the Basic Multilingual Plane).
CACHE_LIMIT = 50_000
#: No commit starts while the write-ahead log is larger: half of the 64 MiB the store's files
#: may take in all, the rest being the database's (some 40 bytes a user), the log's index's
#: (32 KiB per 4,096 pages of log) and the generation file's (8 bytes).
WAL_LIMIT_BYTES: Final = 32 * 1024 * 1024
#: A queued write: a user's (username, date), or None for the readiness probe's.
Write = tuple[str, str] | None


class _BusyError(Exception):
    """Not yet: another connection holds what the attempt needs (a lock, the log's space)."""


def _code(error: sqlite3.Error) -> int:
    """The primary result code; errors of the sqlite3 module itself have none (0)."""
    # Extended codes (BUSY_SNAPSHOT, READONLY_DBMOVED...) carry the primary one in their low byte.
    code: int = getattr(error, "sqlite_errorcode", 0)
    return code & 0xFF


def _connect(path: str, busy_seconds: float) -> sqlite3.Connection:
    # Autocommit (isolation_level=None): every statement outside BEGIN is its own transaction.
    # check_same_thread=False: the connection is only used from the event loop thread, which
    # need not be the thread that opened it.
    db = sqlite3.connect(path, timeout=busy_seconds, isolation_level=None, check_same_thread=False)
    try:
        # WAL lets readers in other worker processes proceed while one writes; NORMAL
        # synchronisation keeps every commit across a process crash (fsync at checkpoints).
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # No checkpoint inside a commit: the Checkpointer does them off the loop.
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute(f"PRAGMA journal_size_limit={WAL_RESET_BYTES}")
        db.execute(_SCHEMA)
        # From here on a locked database fails at once, and _retried waits without blocking.
        db.execute("PRAGMA busy_timeout=0")
    except BaseException:
        db.close()
        raise
    return db


def _read_only(path: str) -> bool:
    """The database file exists and this process may not write it (permissions, chattr +i, a
    read-only filesystem)."""
    return os.path.exists(path) and not os.access(path, os.W_OK)


class SQLiteStore:
    def __init__(self, path: str, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._files = StoreFiles(path)
        # Opened at once, or on first need if the file is read-only now (see _connection).
        self._db: sqlite3.Connection | None = None
        self._checkpointer = Checkpointer(path, min(CHECKPOINT_BUSY_SECONDS, timeout / 4))
        try:
            self._generation = SharedGeneration(self._files.generation)
            if not _read_only(path):
                self._open(timeout)
        except (sqlite3.Error, OSError) as error:
            raise StoreUnavailableError(f"cannot open SQLite database {path!r}: {error}") from error
        # The dates of birth read (None: unknown users too) since the generation last moved.
        self._cache: dict[str, date | None] = {}
        self._cached_generation = self._generation.read()
        # Writes waiting for the next group commit (with their deadlines), and the task that
        # commits them.
        self._writes: list[tuple[Write, float, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        # Whether the last group committed; none has yet, so readiness tries a write first.
        self._writes_work = False
        # The log's size after the last commit (the write-ahead log's file, in bytes).
        self._wal_bytes = 0

    def _open(self, busy_seconds: float) -> sqlite3.Connection:
        db = _connect(self._path, busy_seconds)
        try:
            self._files.remember()  # SQLite has opened the log and its index by now
            self._checkpointer.start()
        except BaseException:
            db.close()
            raise
        self._db = db
        return db

    def _connection(self) -> sqlite3.Connection:
        """The store's connection, opened now if the file was read-only until now.

        SQLite would open a read-only file read-only and stay so, and create the log and its
        index with the file's permissions (read-only too, for a user other than root): nothing
        would let the store write again short of a restart. So it does not open such a file at
        all, and answers every call with an error until the file can be written.
        """
        if self._db is not None:
            return self._db
        if _read_only(self._path):
            raise StoreUnavailableError(f"the SQLite database {self._path} is read-only")
        try:
            return self._open(0.0)  # on the event loop: a locked database fails at once
        except (sqlite3.Error, OSError) as error:
            raise StoreUnavailableError(
                f"cannot open SQLite database {self._path!r}: {error}"
            ) from error

    async def _retried(
        self, attempt: Callable[[], T], action: str, deadline: float | None = None
    ) -> T:
        """attempt(), again while it raises _BusyError, with pauses, until the deadline (by
        default the store timeout from the first wait)."""
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                return attempt()
            except _BusyError as wait:
                loop = asyncio.get_running_loop()
                if deadline is None:
                    deadline = loop.time() + self._timeout
                if loop.time() + pause > deadline:
                    raise StoreUnavailableError(
                        f"SQLite {action} failed: {wait} after {self._timeout:g} s"
                    ) from wait
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    async def _execute(
        self,
        statement: str,
        parameters: tuple[str, ...],
        action: str,
        deadline: float | None = None,
    ) -> Any:
        """Run one statement, its first row back; a locked database is retried until the
        deadline (by default the store timeout)."""
        return await self._retried(
            lambda: self._step(statement, parameters, action), action, deadline
        )

    def _step(self, statement: str, parameters: tuple[str, ...], action: str) -> Any:
        try:
            return self._connection().execute(statement, parameters).fetchone()
        except sqlite3.Error as error:
            if _code(error) in _LOCKED:
                raise _BusyError("still locked") from error
            raise StoreUnavailableError(f"SQLite {action} failed: {error}") from error

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
        await self._write((username, born.isoformat()))

    async def _write(self, write: Write) -> None:
        loop = asyncio.get_running_loop()
        committed = loop.create_future()
        # Its deadline runs from now: queued behind a group that waits for the lock, it must not
        # then wait a whole store timeout more.
        self._writes.append((write, loop.time() + self._timeout, committed))
        if self._writer is None or self._writer.done():
            # Its first step runs in the next pass, once this pass's other PUTs have queued.
            self._writer = asyncio.create_task(self._commit_writes())
        await committed

    async def _commit_writes(self) -> None:
        while self._writes:
            group, self._writes = self._writes, []
            try:
                # The first write's deadline is the group's: the earliest.
                await self._commit([write for write, _, _ in group], deadline=group[0][1])
            except Exception as error:  # every write of the group fails as the group did
                outcome: BaseException | None = error
            else:
                outcome = None
            self._writes_work = outcome is None
            for _, _, committed in group:
                if committed.done():  # its request was cancelled
                    continue
                if outcome is None:
                    committed.set_result(None)
                else:
                    committed.set_exception(outcome)

    async def _commit(self, group: list[Write], deadline: float) -> None:
        db = self._connection()
        if self._wal_bytes > WAL_LIMIT_BYTES:
            await self._retried(self._wal_has_room, "write", deadline)
        # The write lock is waited for like any locked statement; from there on nothing awaits,
        # so no GET on this connection runs inside the transaction.
        await self._execute("BEGIN IMMEDIATE", (), "write", deadline)
        try:
            self._files.check_data()  # never append to a log that is no longer the database's
            users = [write for write in group if write is not None]
            db.executemany(_UPSERT, users)
            if len(users) < len(group):
                db.execute(_PROBE_SCHEMA)
                db.execute(_PROBE)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"SQLite write failed: {error}") from error
        finally:
            if db.in_transaction:  # whatever failed, the next group must find none open
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
        # Before the 204s: no GET that starts after them can be answered from a cache.
        self._generation.bump()
        # And the files again: one deleted or replaced since the check above holds this group,
        # and the file at the path does not.
        self._wal_bytes = self._files.check_data()
        if self._wal_bytes > WAL_RESET_BYTES:
            self._checkpointer.wake()

    def _wal_has_room(self) -> None:
        self._wal_bytes = self._files.check_data()
        if self._wal_bytes > WAL_LIMIT_BYTES:
            self._checkpointer.wake()
            why = self._checkpointer.last_problem or "no checkpoint has completed since"
            raise _BusyError(f"the write-ahead log is over {WAL_LIMIT_BYTES >> 20} MiB ({why})")

    async def check(self) -> None:
        self._connection()
        self._files.check_all()
        await self._execute("SELECT 1 FROM birthdays LIMIT 1", (), "check")
        if not self._writes_work:
            await self._write(None)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer  # the last group commits before the connection closes
        self._checkpointer.close()
        if self._db is not None:
            self._db.close()
        self._generation.close()
        self._files.remove_orphaned_log()
