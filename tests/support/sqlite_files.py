"""An SQLite store's files as the tests handle them behind the service's back: the size of its
write-ahead log, a reader that holds the log back, a restore of a copy over the database."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Final

MiB: Final = 1024 * 1024
#: The most the store's files (and its write-ahead log alone) may take under sustained writes:
#: the target docs/performance.md sets, which the tests and the benchmark's soak both check.
DISK_BOUND_BYTES: Final = 64 * MiB


def wal_bytes(database: Path) -> int:
    """The size of the database's write-ahead log file."""
    return Path(f"{database}-wal").stat().st_size


@contextmanager
def old_snapshot(database: Path) -> Iterator[None]:
    """Another connection inside a read transaction: no checkpoint can go past its snapshot."""
    with closing(sqlite3.connect(database, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM birthdays").fetchone()
        yield


def replace_with_a_copy(database: Path) -> None:
    """Swap a consistent copy of the database (SQLite's backup of what is committed) in for the
    file, as a restore from a backup would: a new file at the same path."""
    copy = database.with_name(f"{database.name}.copy")
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    copy.replace(database)
