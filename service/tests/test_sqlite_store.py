"""The SQLite store's read cache: every store on one file sees every other's writes at once."""

import asyncio
import multiprocessing
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import pytest

from hello_birthday.store import StoreUnavailableError
from hello_birthday.store import sqlite as sqlite_store
from hello_birthday.store.generation import SharedGeneration
from hello_birthday.store.sqlite import SQLiteStore

BORN = date(1990, 5, 17)
REBORN = date(1991, 6, 18)

StoreOpener = Callable[[], AbstractAsyncContextManager[SQLiteStore]]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "birthdays.db"


@pytest.fixture
def open_store(database: Path) -> StoreOpener:
    """Opens a store on the test's database file: one per worker process in the service."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[SQLiteStore]:
        store = SQLiteStore(str(database), timeout=1.0)
        try:
            yield store
        finally:
            await store.close()

    return opened


def delete_outside_the_service(database: Path, username: str) -> None:
    with sqlite3.connect(database, isolation_level=None) as db:
        db.execute("DELETE FROM birthdays WHERE username = ?", (username,))


def test_a_write_is_read_at_once_by_a_store_that_cached_the_user(
    open_store: StoreOpener,
) -> None:
    async def scenario() -> None:
        async with open_store() as reader, open_store() as writer:
            assert await reader.get("Ann") is None  # unknown users are cached too
            await writer.put("Ann", BORN)
            assert await reader.get("Ann") == BORN
            await writer.put("Ann", REBORN)
            assert await reader.get("Ann") == REBORN
            assert await writer.get("Ann") == REBORN

    asyncio.run(scenario())


def test_reads_come_from_the_cache_until_a_store_writes(
    open_store: StoreOpener, database: Path
) -> None:
    async def scenario() -> None:
        async with open_store() as reader, open_store() as writer:
            await writer.put("Ann", BORN)
            assert await reader.get("Ann") == BORN
            delete_outside_the_service(database, "Ann")
            assert await reader.get("Ann") == BORN  # cached: SQLite was not asked
            await writer.put("Bob", REBORN)  # any write empties every store's cache
            assert await reader.get("Ann") is None

    asyncio.run(scenario())


def test_a_full_cache_starts_over(
    open_store: StoreOpener, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        monkeypatch.setattr(sqlite_store, "CACHE_LIMIT", 2)
        async with open_store() as store:
            for name in ("Ann", "Bob"):
                await store.put(name, BORN)
            assert await store.get("Ann") == BORN
            assert await store.get("Bob") == BORN  # the cache is full
            delete_outside_the_service(database, "Ann")
            assert await store.get("Cid") is None  # no room: the cache was emptied first
            assert await store.get("Ann") is None  # so Ann is read from SQLite again

    asyncio.run(scenario())


def test_a_failed_write_changes_nothing_cached(open_store: StoreOpener, database: Path) -> None:
    async def scenario() -> None:
        async with open_store() as reader, open_store() as writer:
            await writer.put("Ann", BORN)
            assert await reader.get("Ann") == BORN
            holder = sqlite3.connect(database, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
                with pytest.raises(StoreUnavailableError):
                    await writer.put("Ann", REBORN)
            finally:
                holder.close()
            assert await reader.get("Ann") == BORN
            assert await writer.get("Ann") == BORN

    asyncio.run(scenario())


def test_an_unusable_generation_file_is_a_store_error(database: Path) -> None:
    Path(f"{database}-generation").mkdir()
    with pytest.raises(StoreUnavailableError, match="cannot open SQLite database"):
        SQLiteStore(str(database), timeout=1.0)


def test_the_generation_survives_a_late_opener(tmp_path: Path) -> None:
    path = str(tmp_path / "generation")
    first = SharedGeneration(path)
    for _ in range(3):
        first.bump()
    second = SharedGeneration(path)
    assert second.read() == first.read() == 3
    second.bump()
    assert first.read() == 4
    first.close()
    second.close()


BUMPERS = 4
BUMPS = 20_000  # tens of milliseconds each: long enough for the bumpers to overlap


def bump_many(path: str, start: BarrierType) -> None:
    generation = SharedGeneration(path)
    start.wait()
    for _ in range(BUMPS):
        generation.bump()
    generation.close()


def test_bumps_from_several_processes_all_count(tmp_path: Path) -> None:
    path = str(tmp_path / "generation")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(BUMPERS)
    bumpers = [context.Process(target=bump_many, args=(path, start)) for _ in range(BUMPERS)]
    for bumper in bumpers:
        bumper.start()
    for bumper in bumpers:
        bumper.join(timeout=60)
        assert bumper.exitcode == 0
    generation = SharedGeneration(path)
    assert generation.read() == BUMPERS * BUMPS
    generation.close()
