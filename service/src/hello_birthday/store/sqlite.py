"""The embedded store: one SQLite file in WAL mode, shared safely by several worker processes.

Calls run on the event loop's thread on purpose: a primary-key lookup or upsert on a local file
takes microseconds, less than a hop to a worker thread would cost. What could block stays off
the loop's thread. The store composes one unit per job:

- executor: a database locked by another process is waited for with asyncio sleeps, up to the
  lock wait, never with SQLite's busy handler, which would sleep on the loop's thread;
- read_cache: what a worker read, kept until any worker on the file writes;
- group_commit: the PUTs that reach the store in one pass of the event loop share one
  transaction, and each answers once it is committed;
- files: before and after each commit, the database and its log at their paths must still be
  the files the store opened, so that a write into a file deleted or replaced meanwhile is
  answered with an error, never acknowledged;
- checkpoint: a thread that keeps the write-ahead log small. No commit starts while the log, as
  this worker last measured it, is over WAL_LIMIT_BYTES, which happens only when checkpoints
  cannot complete (another connection keeps an old snapshot open): writes then wait for one, up
  to the lock wait, rather than fill the disk.

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
from datetime import date
from typing import Final

from hello_birthday.store.base import StoreUnavailableError, parse_stored_date
from hello_birthday.store.checkpoint import CHECKPOINT_BUSY_SECONDS, WAL_RESET_BYTES, Checkpointer
from hello_birthday.store.executor import BusyError, LockAwareExecutor
from hello_birthday.store.files import StoreFiles
from hello_birthday.store.generation import SharedGeneration
from hello_birthday.store.group_commit import GroupCommit
from hello_birthday.store.read_cache import ReadCache

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
#: No commit starts while the write-ahead log is larger (as this worker last measured it: with
#: several workers, each may start one more group past it): half of the 64 MiB the store's files
#: may take in all, the rest being the database's (some 40 bytes a user), the log's index's
#: (32 KiB per 4,096 pages of log) and the generation file's (8 bytes).
WAL_LIMIT_BYTES: Final = 32 * 1024 * 1024
#: A queued write: a user's (username, date), or None for the readiness probe's.
Write = tuple[str, str] | None


def _read_only(path: str) -> bool:
    """The database file exists and this process may not write it (permissions, chattr +i, a
    read-only filesystem)."""
    return os.path.exists(path) and not os.access(path, os.W_OK)


def _cannot_open(path: str, error: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(f"cannot open SQLite database {path!r}: {error}")


class SQLiteStore:
    """The store of one worker on one database file; SQLiteStore.open makes one."""

    def __init__(self, files: StoreFiles, generation: SharedGeneration, lock_wait: float) -> None:
        """Composes the store's parts; opens nothing but what it is given."""
        self._files = files
        self._lock_wait = lock_wait
        # Opened by _open_database, at once or on first need (see _connection).
        self._db: sqlite3.Connection | None = None
        # It holds writers back at most a quarter of the time they may wait for the lock.
        checkpoint_busy_seconds = min(CHECKPOINT_BUSY_SECONDS, lock_wait / 4)
        self._checkpointer = Checkpointer(files.database, checkpoint_busy_seconds)
        self._executor = LockAwareExecutor(self._connection, lock_wait)
        self._cache = ReadCache(generation)
        self._group = GroupCommit[Write](self._commit)
        # Whether the last group committed; none has yet, so readiness tries a write first.
        self._writes_work = False
        # The log's size after the last commit (the write-ahead log's file, in bytes).
        self._wal_bytes = 0

    @classmethod
    def open(cls, path: str, lock_wait: float) -> "SQLiteStore":
        """The store of the database at path, its connection and checkpoint thread running; if
        the file is read-only, they start on the first call once it can be written.

        lock_wait: the longest a call waits for the database locked by another process, or a
        write for a checkpoint to make room in a full log, in seconds from the call's arrival.
        """
        files = StoreFiles(path)
        try:
            generation = SharedGeneration(files.generation)
        except OSError as error:
            raise _cannot_open(path, error) from error
        store = cls(files, generation, lock_wait)
        if not _read_only(path):
            try:
                # Before any request is served: SQLite itself may wait for a lock meanwhile.
                store._open_database(busy_seconds=lock_wait)
            except StoreUnavailableError:
                generation.close()
                raise
        return store

    def _open_database(self, busy_seconds: float) -> sqlite3.Connection:
        """Connect, set the pragmas, create the schema, take the files at the paths as the
        store's own and start the checkpoint thread: the one place the database is opened."""
        path = self._files.database
        try:
            # Autocommit (isolation_level=None): statements outside BEGIN are transactions of
            # their own. check_same_thread=False: the connection is only used from the event
            # loop's thread, which need not be the thread that opened it.
            db = sqlite3.connect(
                path, timeout=busy_seconds, isolation_level=None, check_same_thread=False
            )
            try:
                # WAL lets readers in other worker processes proceed while one writes; NORMAL
                # synchronisation keeps every commit across a process crash (fsync at
                # checkpoints).
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                # No checkpoint inside a commit: the Checkpointer does them off the loop.
                db.execute("PRAGMA wal_autocheckpoint=0")
                db.execute(f"PRAGMA journal_size_limit={WAL_RESET_BYTES}")
                db.execute(_SCHEMA)
                # From here on a locked database fails at once, and the executor waits for it.
                db.execute("PRAGMA busy_timeout=0")
                self._files.remember()  # SQLite has opened the log and its index by now
                self._checkpointer.start()
            except BaseException:
                db.close()
                raise
        except (sqlite3.Error, OSError) as error:
            raise _cannot_open(path, error) from error
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
        if _read_only(self._files.database):
            raise StoreUnavailableError(f"the SQLite database {self._files.database} is read-only")
        return self._open_database(busy_seconds=0.0)  # on the event loop: no waiting

    async def get(self, username: str) -> date | None:
        try:
            return self._cache.lookup(username)
        except KeyError:
            pass
        # Read after the lookup: a write committed since is either in this row or has moved
        # the cache's generation on.
        row = await self._executor.execute(_SELECT, (username,), "read")
        born = None if row is None else parse_stored_date(username, row[0])
        self._cache.remember(username, born)
        return born

    async def put(self, username: str, born: date) -> None:
        await self._write((username, born.isoformat()))

    async def _write(self, write: Write) -> None:
        # Its deadline runs from now: queued behind a group that waits for the lock, it must not
        # then wait a whole lock wait more.
        deadline = asyncio.get_running_loop().time() + self._lock_wait
        await self._group.write(write, deadline)

    async def _commit(self, group: list[Write], deadline: float) -> None:
        try:
            await self._commit_group(group, deadline)
        except Exception:
            self._writes_work = False
            raise
        self._writes_work = True

    async def _commit_group(self, group: list[Write], deadline: float) -> None:
        db = self._connection()
        if self._wal_bytes > WAL_LIMIT_BYTES:
            await self._executor.retry(self._wal_has_room, "write", deadline)
        # The write lock is waited for like any locked statement; from there on nothing awaits,
        # so no GET on this connection runs inside the transaction.
        await self._executor.execute("BEGIN IMMEDIATE", (), "write", deadline)
        try:
            # Don't start appending to a log that is already no longer the database's (the check
            # after the commit is what keeps such a write from being acknowledged).
            self._files.check_data()
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
        self._cache.written()
        # And the files again: one deleted or replaced since the check above holds this group,
        # and the file at the path does not.
        self._wal_bytes = self._files.check_data()
        if self._wal_bytes > WAL_RESET_BYTES:
            self._checkpointer.wake()

    def _wal_has_room(self) -> None:
        self._wal_bytes = self._files.check_data()
        if self._wal_bytes > WAL_LIMIT_BYTES:
            self._checkpointer.wake(writers_held=True)
            why = self._checkpointer.last_problem or "no checkpoint has completed since"
            raise BusyError(f"the write-ahead log is over {WAL_LIMIT_BYTES >> 20} MiB ({why})")

    async def check(self) -> None:
        self._connection()
        self._files.check_all()
        await self._executor.execute("SELECT 1 FROM birthdays LIMIT 1", (), "check")
        if not self._writes_work:
            await self._write(None)

    async def close(self) -> None:
        await self._group.close()  # the last group commits before the connection closes
        self._checkpointer.close()
        if self._db is not None:
            self._db.close()
        self._cache.close()
        self._files.remove_orphaned_log()
