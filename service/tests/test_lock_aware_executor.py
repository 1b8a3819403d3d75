"""The lock-aware executor: a database locked by another connection is waited for with asyncio
sleeps, so the event loop serves others meanwhile, up to the lock wait."""

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from hello_birthday.store import StoreUnavailableError
from hello_birthday.store.executor import LONGEST_PAUSE_SECONDS, BusyError, LockAwareExecutor

INSERT = "INSERT INTO birthdays VALUES (?, ?)"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A connection as the store has it: autocommit, failing at once on a lock."""
    path = tmp_path / "birthdays.db"
    with closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE birthdays (username TEXT PRIMARY KEY, date_of_birth TEXT)")
        yield db


@pytest.fixture
def lock_holder(tmp_path: Path, database: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Another connection to the database, holding its write lock until it commits."""
    with closing(sqlite3.connect(tmp_path / "birthdays.db", isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        yield holder


def test_a_locked_database_is_waited_for_while_the_loop_serves_others(
    database: sqlite3.Connection, lock_holder: sqlite3.Connection
) -> None:
    executor = LockAwareExecutor(lambda: database, lock_wait=2.0)
    turns = 0

    async def meanwhile(write: "asyncio.Task[object]") -> None:
        nonlocal turns
        while not write.done():
            turns += 1
            if turns == 20:
                lock_holder.execute("COMMIT")  # released while the write waits
            await asyncio.sleep(0.001)

    async def scenario() -> None:
        write = asyncio.create_task(executor.execute(INSERT, ("Ann", "1990-05-17"), "write"))
        await asyncio.gather(write, meanwhile(write))

    asyncio.run(scenario())
    assert turns >= 20, "the loop served nothing else while the write waited"
    assert database.execute("SELECT username FROM birthdays").fetchall() == [("Ann",)]


def test_a_lock_held_past_the_lock_wait_is_an_error_naming_the_action(
    database: sqlite3.Connection, lock_holder: sqlite3.Connection
) -> None:
    lock_wait = 0.1
    executor = LockAwareExecutor(lambda: database, lock_wait)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(StoreUnavailableError, match=r"SQLite write failed: still locked after"):
            await executor.execute(INSERT, ("Ann", "1990-05-17"), "write")
        return loop.time() - started

    waited = asyncio.run(scenario())
    assert waited >= lock_wait - LONGEST_PAUSE_SECONDS, "gave up before the lock wait"


def test_any_other_error_is_a_store_error_at_once(database: sqlite3.Connection) -> None:
    attempts = 0

    def connection() -> sqlite3.Connection:
        nonlocal attempts
        attempts += 1
        return database

    executor = LockAwareExecutor(connection, lock_wait=5.0)
    with pytest.raises(StoreUnavailableError, match="SQLite read failed: no such table"):
        asyncio.run(executor.execute("SELECT * FROM absent", (), "read"))
    assert attempts == 1


def test_an_attempt_is_retried_until_the_deadline_it_is_given(
    database: sqlite3.Connection,
) -> None:
    executor = LockAwareExecutor(lambda: database, lock_wait=5.0)
    attempts = 0

    def busy() -> None:
        nonlocal attempts
        attempts += 1
        raise BusyError("the log is full")

    async def scenario() -> None:
        deadline = asyncio.get_running_loop().time() + 0.05  # well before the lock wait
        with pytest.raises(StoreUnavailableError, match="the log is full"):
            await asyncio.wait_for(executor.retry(busy, "write", deadline), timeout=2)

    asyncio.run(scenario())
    assert attempts > 1
