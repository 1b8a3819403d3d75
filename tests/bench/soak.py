"""The soak row of `nox -s bench`: PUTs at full speed for minutes, the store's files watched.

One SQLite worker, started and seeded like the other rows, takes wrk's PUTs over the seeded
users for the soak's whole length, in windows of back-to-back runs (a minute each by default)
so that the first and the last minute can be compared. Meanwhile a thread stats the store's
files (the database, its -wal and -shm, the -generation file) every SAMPLE_SECONDS and keeps
the largest log and the largest total seen, both of which docs/performance.md's targets bound.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hello_birthday.store.files import StoreFiles

SAMPLE_SECONDS = 0.1


@dataclass
class Peaks:
    """The largest sizes seen so far, in bytes."""

    wal: int = 0
    footprint: int = 0
    samples: int = 0


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


@contextmanager
def watched(database: Path) -> Iterator[Peaks]:
    """Sample the sizes of the store's files in a thread until the block ends."""
    files = StoreFiles(str(database))
    peaks = Peaks()
    stop = threading.Event()

    def sample() -> None:
        sizes = {path: _size(path) for path in files.all()}
        peaks.wal = max(peaks.wal, sizes[files.wal])
        peaks.footprint = max(peaks.footprint, sum(sizes.values()))
        peaks.samples += 1

    def sample_until_stopped() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            sample()

    sampler = threading.Thread(target=sample_until_stopped, name="soak-sampler", daemon=True)
    sampler.start()
    try:
        yield peaks
    finally:
        stop.set()
        sampler.join()
        sample()  # and once at the very end
