"""The SQLite store's read cache and group commits: every store on one file (one per worker)
sees every other's writes at once, and the PUTs of one event-loop pass share a transaction."""

import asyncio
import contextlib
import multiprocessing
import shutil
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import date, timedelta
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import pytest

from hello_birthday.store import InvalidStoredDataError, StoreUnavailableError, read_cache
from hello_birthday.store import sqlite as sqlite_store
from hello_birthday.store.generation import SharedGeneration
from hello_birthday.store.sqlite import SQLiteStore
from tests.support.sqlite_files import (
    DISK_BOUND_BYTES,
    MiB,
    old_snapshot,
    replace_with_a_copy,
    wal_bytes,
)

BORN = date(1990, 5, 17)
REBORN = date(1991, 6, 18)
GROUP = [f"User{letter}" for letter in "ABCDEFGHIJKLMNOPQRST"]

Scenario = Callable[..., Awaitable[None]]
Runner = Callable[[Scenario], None]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "birthdays.db"


@pytest.fixture
def in_stores(database: Path) -> Runner:
    """Runs scenario(*stores) on an event loop, a store per parameter, all on the test's file."""

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            async with AsyncExitStack() as stack:
                stores = []
                for _ in range(scenario.__code__.co_argcount):
                    store = SQLiteStore.open(str(database), lock_wait=1.0)
                    stack.push_async_callback(store.close)
                    stores.append(store)
                await scenario(*stores)

        asyncio.run(main())

    return run


@contextmanager
def write_lock(database: Path) -> Iterator[None]:
    """Another process holding SQLite's write lock."""
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.close()


def delete_outside_the_service(database: Path, username: str) -> None:
    with sqlite3.connect(database, isolation_level=None) as db:
        db.execute("DELETE FROM birthdays WHERE username = ?", (username,))


def generation_of(database: Path) -> int:
    generation = SharedGeneration(f"{database}-generation")
    try:
        return generation.read()
    finally:
        generation.close()


def stored(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT username, date_of_birth FROM birthdays"))


def test_a_write_is_read_at_once_by_a_store_that_cached_the_user(in_stores: Runner) -> None:
    async def scenario(reader: SQLiteStore, writer: SQLiteStore) -> None:
        assert await reader.get("Ann") is None  # unknown users are cached too
        await writer.put("Ann", BORN)
        assert await reader.get("Ann") == BORN
        await writer.put("Ann", REBORN)
        assert await reader.get("Ann") == REBORN
        assert await writer.get("Ann") == REBORN

    in_stores(scenario)


def test_reads_come_from_the_cache_until_a_store_writes(in_stores: Runner, database: Path) -> None:
    async def scenario(reader: SQLiteStore, writer: SQLiteStore) -> None:
        await writer.put("Ann", BORN)
        assert await reader.get("Ann") == BORN
        delete_outside_the_service(database, "Ann")
        assert await reader.get("Ann") == BORN  # cached: SQLite was not asked
        await writer.put("Bob", REBORN)  # any write empties every store's cache
        assert await reader.get("Ann") is None

    in_stores(scenario)


def test_a_full_cache_starts_over(
    in_stores: Runner, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_cache, "CACHE_LIMIT", 2)

    async def scenario(store: SQLiteStore) -> None:
        await asyncio.gather(store.put("Ann", BORN), store.put("Bob", BORN))
        assert await store.get("Ann") == BORN
        assert await store.get("Bob") == BORN  # the cache is full
        delete_outside_the_service(database, "Ann")
        assert await store.get("Cid") is None  # no room: the cache was emptied first
        assert await store.get("Ann") is None  # so Ann is read from SQLite again

    in_stores(scenario)


def test_a_failed_write_changes_nothing_cached(in_stores: Runner, database: Path) -> None:
    async def scenario(reader: SQLiteStore, writer: SQLiteStore) -> None:
        await writer.put("Ann", BORN)
        assert await reader.get("Ann") == BORN
        with write_lock(database), pytest.raises(StoreUnavailableError):
            await writer.put("Ann", REBORN)
        assert await reader.get("Ann") == BORN
        assert await writer.get("Ann") == BORN

    in_stores(scenario)


def test_the_puts_of_one_loop_pass_share_one_commit(in_stores: Runner, database: Path) -> None:
    async def scenario(store: SQLiteStore) -> None:
        before = generation_of(database)
        await asyncio.gather(*(store.put(name, BORN) for name in GROUP))
        assert generation_of(database) == before + 1  # one commit, one bump

    in_stores(scenario)
    assert stored(database) == dict.fromkeys(GROUP, BORN.isoformat())


def test_puts_awaited_one_after_another_commit_one_by_one(
    in_stores: Runner, database: Path
) -> None:
    async def scenario(store: SQLiteStore) -> None:
        before = generation_of(database)
        for name in GROUP[:3]:
            await store.put(name, BORN)
            assert stored(database)[name] == BORN.isoformat()  # committed before it returned
        assert generation_of(database) == before + 3

    in_stores(scenario)


def test_the_later_of_two_puts_in_one_group_wins(in_stores: Runner, database: Path) -> None:
    async def scenario(store: SQLiteStore) -> None:
        await asyncio.gather(store.put("Ann", BORN), store.put("Ann", REBORN))

    in_stores(scenario)
    assert stored(database) == {"Ann": REBORN.isoformat()}


def test_a_group_that_cannot_commit_fails_as_a_whole(in_stores: Runner, database: Path) -> None:
    async def scenario(store: SQLiteStore) -> None:
        await store.put("Ann", BORN)
        before = generation_of(database)
        with write_lock(database):
            outcomes = await asyncio.gather(
                *(store.put(name, REBORN) for name in ("Ann", "Bob", "Cid")),
                return_exceptions=True,
            )
        assert all(isinstance(outcome, StoreUnavailableError) for outcome in outcomes)
        assert generation_of(database) == before

    in_stores(scenario)
    assert stored(database) == {"Ann": BORN.isoformat()}


def test_a_group_failing_inside_its_transaction_leaves_none_open(
    in_stores: Runner, database: Path
) -> None:
    async def scenario(store: SQLiteStore) -> None:
        # On the table the store created: a row SQLite refuses halfway through the group.
        with sqlite3.connect(database, isolation_level=None) as db:
            db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON birthdays WHEN NEW.username = 'Bad' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        outcomes = await asyncio.gather(
            store.put("Ann", BORN), store.put("Bad", BORN), return_exceptions=True
        )
        assert all(isinstance(outcome, StoreUnavailableError) for outcome in outcomes)
        await store.put("Bob", BORN)  # the failed group's transaction was rolled back

    in_stores(scenario)
    assert stored(database) == {"Bob": BORN.isoformat()}


def test_a_put_queued_while_a_group_waits_for_the_lock_commits_after_it(
    in_stores: Runner, database: Path
) -> None:
    async def scenario(store: SQLiteStore) -> None:
        before = generation_of(database)
        with write_lock(database):
            first = asyncio.create_task(store.put("Ann", BORN))
            await asyncio.sleep(0.05)  # Ann's group is waiting for the lock
            second = asyncio.create_task(store.put("Bob", REBORN))
            await asyncio.sleep(0.05)
            assert not first.done()
            assert not second.done()
        await asyncio.gather(first, second)
        assert generation_of(database) == before + 2  # two groups, one after the other

    in_stores(scenario)
    assert stored(database) == {"Ann": BORN.isoformat(), "Bob": REBORN.isoformat()}


def test_a_put_queued_behind_a_group_waiting_for_the_lock_fails_by_its_own_deadline(
    database: Path,
) -> None:
    """Not after a lock wait more: the group before it used up its own first."""
    lock_wait = 0.5

    async def scenario() -> None:
        store = SQLiteStore.open(str(database), lock_wait=lock_wait)
        loop = asyncio.get_running_loop()
        try:
            with write_lock(database):
                first = asyncio.create_task(store.put("Ann", BORN))
                await asyncio.sleep(0.1)  # Ann's group is waiting for the lock
                queued_at = loop.time()
                with pytest.raises(StoreUnavailableError, match="still locked"):
                    await store.put("Bob", BORN)
                waited = loop.time() - queued_at
                with pytest.raises(StoreUnavailableError):
                    await first
        finally:
            await store.close()
        assert waited < 1.5 * lock_wait, f"{waited:.2f} s"  # not about twice the lock wait

    asyncio.run(scenario())


def test_closing_commits_the_writes_still_queued(database: Path) -> None:
    async def scenario() -> None:
        store = SQLiteStore.open(str(database), lock_wait=1.0)
        puts = [asyncio.create_task(store.put(name, BORN)) for name in GROUP[:3]]
        await asyncio.sleep(0)  # the PUTs have queued; their group has not committed yet
        await store.close()
        await asyncio.gather(*puts)

    asyncio.run(scenario())
    assert stored(database) == dict.fromkeys(GROUP[:3], BORN.isoformat())


def test_an_unusable_generation_file_is_a_store_error(database: Path) -> None:
    Path(f"{database}-generation").mkdir()
    with pytest.raises(StoreUnavailableError, match="cannot open SQLite database"):
        SQLiteStore.open(str(database), lock_wait=1.0)


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


#: Users a test puts in the table beforehand, about fifty to a page of the table.
MANY_USERS = [f"User{'x' * 54}{index:06d}" for index in range(10_000)]
#: One user in each of a hundred pages: a group of their writes appends a hundred pages.
ONE_PER_PAGE = MANY_USERS[::100]


def add_outside_the_service(database: Path, usernames: list[str]) -> None:
    with sqlite3.connect(database, isolation_level=None) as db:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO birthdays VALUES (?, ?)", [(name, BORN.isoformat()) for name in usernames]
        )
        db.execute("COMMIT")


def test_sustained_writes_keep_the_write_ahead_log_within_its_bound(
    in_stores: Runner, database: Path
) -> None:
    """Commits back to back, as under full load: the log must be reset again and again.

    Not a matter of timing: whatever the speed of the checkpoints, no commit starts while the
    log is over its limit, so writing twice the bound completes only if the log was reset.
    """

    async def scenario(store: SQLiteStore) -> None:
        add_outside_the_service(database, MANY_USERS)
        appended = peak = previous = resets = 0
        day = 0
        while appended < 2 * DISK_BOUND_BYTES:
            day += 1
            born = date(1950, 1, 1) + timedelta(days=day)
            await asyncio.gather(*(store.put(name, born) for name in ONE_PER_PAGE))
            size = wal_bytes(database)
            if size < previous:
                resets += 1
            else:
                appended += size - previous
            previous = size
            peak = max(peak, size)
        assert peak <= DISK_BOUND_BYTES, f"{peak / MiB:.0f} MiB"
        # Checked before each commit: the commit itself may go over by its own pages.
        assert peak <= sqlite_store.WAL_LIMIT_BYTES + MiB
        assert resets > 0

    in_stores(scenario)


def test_a_log_that_cannot_be_reset_stops_writes_at_its_limit_until_it_can(
    in_stores: Runner, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 2 * MiB  # reached in a few commits
    monkeypatch.setattr(sqlite_store, "WAL_LIMIT_BYTES", limit)

    async def write_until_refused(store: SQLiteStore) -> tuple[date, str]:
        """Groups of writes until one fails: the date the last group that succeeded wrote, and
        why the next failed."""
        written = BORN
        for day in range(1, 100):
            born = date(1950, 1, 1) + timedelta(days=day)
            try:
                await asyncio.gather(*(store.put(name, born) for name in ONE_PER_PAGE))
            except StoreUnavailableError as error:
                return written, str(error)
            assert wal_bytes(database) <= limit + MiB
            written = born
        raise AssertionError("the log grew past its limit and writes went on")

    async def scenario(store: SQLiteStore) -> None:
        add_outside_the_service(database, MANY_USERS)
        with old_snapshot(database):
            written, why = await write_until_refused(store)
        assert "write-ahead log is over 2 MiB" in why
        # Once the reader is gone a checkpoint resets the log, within a few of its rounds.
        for _ in range(10):
            with contextlib.suppress(StoreUnavailableError):
                await store.put("Ann", BORN)
                break
        assert await store.get("Ann") == BORN
        assert wal_bytes(database) <= limit
        assert await store.get(ONE_PER_PAGE[0]) == written  # the refused group wrote nothing

    in_stores(scenario)


@pytest.mark.parametrize(
    ("suffix", "change"),
    [("", "deleted"), ("", "replaced"), ("-wal", "deleted"), ("-wal", "replaced")],
)
def test_a_file_deleted_or_replaced_under_the_store_refuses_writes_and_readiness(
    in_stores: Runner, database: Path, suffix: str, change: str
) -> None:
    path = Path(f"{database}{suffix}")

    async def scenario(store: SQLiteStore) -> None:
        await store.put("Ann", BORN)
        await store.check()
        if change == "deleted":
            path.unlink()
        else:
            shutil.copyfile(path, f"{path}.new")
            Path(f"{path}.new").replace(path)  # same bytes, another file
        message = f"{path} was {change}"
        with pytest.raises(StoreUnavailableError, match=message):
            await store.put("Bob", BORN)
        with pytest.raises(StoreUnavailableError, match=message):
            await store.check()
        assert await store.get("Ann") == BORN  # reads go on from the files the store has open

    in_stores(scenario)


def test_nothing_is_appended_to_the_log_of_a_database_that_was_replaced(
    in_stores: Runner, database: Path
) -> None:
    """The log at the path holds the old database's pages: appended to, it would be replayed
    into the new file at the next start."""

    async def scenario(store: SQLiteStore) -> None:
        await store.put("Ann", BORN)
        with old_snapshot(database):  # no checkpoint may shrink the log meanwhile
            before = wal_bytes(database)
            shutil.copyfile(database, f"{database}.new")
            Path(f"{database}.new").replace(database)
            with pytest.raises(StoreUnavailableError, match="was replaced"):
                await store.put("Bob", BORN)
            assert wal_bytes(database) == before

    in_stores(scenario)


def test_a_database_replaced_between_the_check_and_the_commit_gets_no_acknowledgement(
    in_stores: Runner, database: Path
) -> None:
    """The file is swapped while the group's transaction runs, after the check that precedes
    the commit: the commit lands in the file the store has open, not the one at the path, so
    the PUT must fail rather than be acknowledged."""

    async def scenario(store: SQLiteStore) -> None:
        db = store._connection()
        # The copy holds what is committed: Ann.
        db.create_function("swap", 0, lambda: replace_with_a_copy(database))
        db.execute(
            "CREATE TEMP TRIGGER swap_on_bob AFTER INSERT ON birthdays "
            "WHEN NEW.username = 'Bob' BEGIN SELECT swap(); END"
        )
        await store.put("Ann", BORN)
        with pytest.raises(StoreUnavailableError, match="was replaced"):
            await store.put("Bob", BORN)

    in_stores(scenario)
    # The file at the path has Ann, not Bob, even with what the store left beside it replayed.
    assert stored(database) == {"Ann": BORN.isoformat()}


def probe_writes(database: Path) -> int:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT writes FROM readiness_probe").fetchone()
        return 0 if row is None else int(row[0])


def test_readiness_writes_only_while_no_write_is_known_to_work(database: Path) -> None:
    async def scenario() -> None:
        store = SQLiteStore.open(str(database), lock_wait=0.2)
        try:
            await store.check()  # nothing written yet: the check writes once
            await store.check()
            await store.put("Ann", BORN)
            await store.check()
            assert probe_writes(database) == 1
            with write_lock(database):
                with pytest.raises(StoreUnavailableError):
                    await store.put("Bob", BORN)
                for _ in range(2):  # not ready while writes fail
                    with pytest.raises(StoreUnavailableError, match="still locked"):
                        await store.check()
            await store.check()  # ready again once a write works, without a PUT
            await store.check()
            assert probe_writes(database) == 2
        finally:
            await store.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "value",
    ["not-a-date", "1990-02-30", "", 19900517.5, b"\x19\x90", "CAST(X'FF' AS TEXT)"],
    ids=["text", "no-such-day", "empty", "number", "blob", "not-utf-8"],
)
def test_a_stored_value_that_is_not_a_date_is_a_data_error_naming_the_user_only(
    in_stores: Runner, database: Path, value: object
) -> None:
    async def scenario(store: SQLiteStore) -> None:
        await store.put("Ann", BORN)
        with sqlite3.connect(database, isolation_level=None) as db:
            if value == "CAST(X'FF' AS TEXT)":
                db.execute(f"UPDATE birthdays SET date_of_birth = {value}")
            else:
                db.execute("UPDATE birthdays SET date_of_birth = ?", (value,))
        await store.put("Bob", BORN)  # empties the cache: Ann is read again
        for _ in range(2):  # never cached
            with pytest.raises(InvalidStoredDataError, match=r"for Ann is not a date$"):
                await store.get("Ann")

    in_stores(scenario)
