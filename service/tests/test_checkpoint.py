"""The checkpoint thread: after a checkpoint that could not complete, it waits a whole interval
before the next, unless the store's writers are held back by the log's limit."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from hello_birthday.store import checkpoint
from hello_birthday.store.checkpoint import Checkpointer
from tests.support.processes import wait_until
from tests.support.sqlite_files import old_snapshot, wal_bytes

#: Long enough that no test here sees a tick: the thread runs only when woken.
NEVER = 3600.0
#: How long a test waits for the thread to act (it acts in milliseconds when woken).
PATIENCE_SECONDS = 10.0


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    """A database in WAL mode whose log holds committed pages (its writer stays connected: the
    last connection to close checkpoints the log and deletes it)."""
    path = tmp_path / "birthdays.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("CREATE TABLE birthdays (username TEXT PRIMARY KEY, born TEXT)")
        db.executemany("INSERT INTO birthdays VALUES (?, '1990-05-17')", [("Alice",), ("Bob",)])
        yield path


@pytest.fixture
def checkpointer(database: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Checkpointer]:
    monkeypatch.setattr(checkpoint, "CHECKPOINT_INTERVAL_SECONDS", NEVER)
    thread = Checkpointer(str(database), busy_seconds=0.05)
    thread.start()
    yield thread
    thread.close()


def failed_once(checkpointer: Checkpointer, database: Path) -> None:
    """A checkpoint woken while a reader holds an old snapshot, which it cannot complete."""
    with old_snapshot(database):
        checkpointer.wake()
        wait_until(
            lambda: checkpointer.last_problem is not None,
            timeout=PATIENCE_SECONDS,
            what="a failed checkpoint",
        )
    assert wal_bytes(database) > 0


def test_a_woken_checkpoint_truncates_the_log(checkpointer: Checkpointer, database: Path) -> None:
    assert wal_bytes(database) > 0
    checkpointer.wake()
    wait_until(lambda: wal_bytes(database) == 0, timeout=PATIENCE_SECONDS, what="an empty log")
    assert checkpointer.last_problem is None


def test_after_a_failed_checkpoint_a_plain_wake_waits_for_the_interval(
    checkpointer: Checkpointer, database: Path
) -> None:
    failed_once(checkpointer, database)
    checkpointer.wake()
    # Nothing to wait for that could end the test early: the thread must not try again.
    time.sleep(0.5)
    assert wal_bytes(database) > 0


def test_after_a_failed_checkpoint_held_writers_get_one_at_once(
    checkpointer: Checkpointer, database: Path
) -> None:
    failed_once(checkpointer, database)
    checkpointer.wake(writers_held=True)
    wait_until(lambda: wal_bytes(database) == 0, timeout=PATIENCE_SECONDS, what="an empty log")
    assert checkpointer.last_problem is None
