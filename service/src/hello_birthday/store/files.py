"""The files of one SQLite store, and whether the ones at their paths are still those it opened.

A file deleted or replaced under a running process stays open in it: SQLite would go on
committing into the old file (and its write-ahead log) and report success, and a restart would
open whatever is at the path now. So the store remembers each file's device and inode once it
has them open, and compares them with the path's before and after every commit and in every
readiness check: one stat(2) per file.
"""

import contextlib
import os
from typing import Final, NamedTuple

from hello_birthday.store.base import StoreUnavailableError

#: SQLite's write-ahead log and its index, beside the database (https://sqlite.org/wal.html).
WAL_SUFFIX: Final = "-wal"
SHM_SUFFIX: Final = "-shm"
#: The shared generation number of the workers' read caches (hello_birthday.store.generation).
GENERATION_SUFFIX: Final = "-generation"


class _Identity(NamedTuple):
    device: int
    inode: int


def _identity(stat: os.stat_result) -> _Identity:
    return _Identity(stat.st_dev, stat.st_ino)


class StoreFiles:
    """The paths of a store's files, and the identity of each as the store opened it."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.wal = database + WAL_SUFFIX
        self.shm = database + SHM_SUFFIX
        self.generation = database + GENERATION_SUFFIX
        self._opened: dict[str, _Identity] = {}

    def all(self) -> tuple[str, ...]:
        return (self.database, self.wal, self.shm, self.generation)

    def remember(self) -> None:
        """Take the files now at the paths as the store's own (once SQLite has them open)."""
        self._opened = {path: _identity(os.stat(path)) for path in self.all()}

    def check_data(self) -> int:
        """Raise unless the database and its log at the paths are the store's; the log's size.

        These two hold every committed write: a write into a file no longer at its path would
        be lost at the next start.
        """
        self._check(self.database)
        return self._check(self.wal).st_size

    def check_all(self) -> None:
        """Raise unless every file at the paths is the store's (the log's index and the
        generation too: a worker started later would not share them)."""
        for path in self.all():
            self._check(path)

    def remove_orphaned_log(self) -> None:
        """After the store's last connection closed: if the database at the path is no longer
        the store's, remove the store's log and index from beside it.

        SQLite leaves them when the database it had open has moved, and the next start would
        replay that log into whatever file is at the path now, pages of another database.
        """
        if self._is_own(self.database):
            return  # SQLite has dealt with its files
        for path in (self.wal, self.shm):
            if self._is_own(path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def _is_own(self, path: str) -> bool:
        try:
            return _identity(os.stat(path)) == self._opened.get(path)
        except OSError:
            return False

    def _check(self, path: str) -> os.stat_result:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise _moved(path, "deleted") from None
        except OSError as error:
            raise StoreUnavailableError(f"cannot check the SQLite file {path}: {error}") from error
        if _identity(stat) != self._opened[path]:
            raise _moved(path, "replaced")
        return stat


def _moved(path: str, how: str) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"the SQLite file {path} was {how} while the service had it open: writes are refused "
        "until the service is restarted"
    )
