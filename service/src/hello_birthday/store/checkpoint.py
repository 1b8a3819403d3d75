"""Checkpoints that keep SQLite's write-ahead log small under sustained writes.

How the log grows and shrinks (https://sqlite.org/wal.html): every commit appends the pages it
changed to the log, and a checkpoint copies logged pages back into the database. The log starts
again from its beginning only when a writer begins on a log that is wholly checkpointed and no
reader still uses, and the file only shrinks when it is truncated. A PASSIVE checkpoint, which
never waits for anyone, copies the log up to where it ended when the checkpoint began; under a
steady stream of commits new ones are appended behind it all the while, so it never catches up,
the log never starts again, and the file grows for as long as the writes go on.

So, in a thread of each worker, every CHECKPOINT_INTERVAL_SECONDS and at once when a commit leaves
the log over WAL_RESET_BYTES (the store wakes it):

1. a PASSIVE checkpoint does the slow part (the fsync of the log, copying its pages, the fsync of
   the database) while writers go on;
2. a TRUNCATE checkpoint then takes the write lock, so nothing can be appended meanwhile, copies
   the few pages committed since step 1, waits for readers to leave the log, and truncates the
   file to zero bytes. Writers find the lock taken and wait their turn off the event loop, for
   about as long as this step takes. It gives up after CHECKPOINT_BUSY_SECONDS (a reader
   holding an old snapshot, such as an sqlite3 shell left inside a transaction, would otherwise
   hold every writer back) and tries again a whole interval later, or at once when the store's
   writers are held back by the log's hard limit: they then hold no lock, and only a checkpoint
   can let them go on.

The log thus holds about what is committed between two rounds, whatever the machine's speed.
Setting journal_size_limit is SQLite's own backstop: a log that starts again without being
truncated is cut to WAL_RESET_BYTES at its first commit. And the store starts no commit while
the log is over its hard limit (hello_birthday.store.sqlite), which only happens when these
checkpoints cannot complete.
"""

import sqlite3
import threading
from typing import Final

CHECKPOINT_INTERVAL_SECONDS: Final = 1.0
#: The longest the TRUNCATE step waits for the write lock or for readers, holding writers back.
CHECKPOINT_BUSY_SECONDS: Final = 0.1
#: A commit that leaves the log over this wakes the checkpoint thread before its next tick.
WAL_RESET_BYTES: Final = 8 * 1024 * 1024


class Checkpointer:
    """The checkpoint thread of one store, with a connection of its own to the database."""

    def __init__(self, path: str, busy_seconds: float) -> None:
        self._path = path
        self._busy_seconds = busy_seconds
        #: Why the last round did not reset the log, for the store's error messages.
        self.last_problem: str | None = None
        self._wake = threading.Event()
        #: Set while the store's writers wait for a checkpoint (the log is over its hard limit).
        self._writers_held = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open its connection (next to the store's: the same file) and start the thread."""
        database = sqlite3.connect(
            self._path, timeout=self._busy_seconds, isolation_level=None, check_same_thread=False
        )
        self._thread = threading.Thread(
            target=self._run, args=(database,), name="sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def wake(self, *, writers_held: bool = False) -> None:
        """Checkpoint now rather than at the next tick; `writers_held`: the store's writers wait
        for it, so try again at once even after a checkpoint that could not complete."""
        if writers_held:
            self._writers_held.set()
        self._wake.set()

    def close(self) -> None:
        self._closed.set()
        self._writers_held.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, database: sqlite3.Connection) -> None:
        try:
            while self._next_round():
                try:
                    self.last_problem = _checkpoint(database)
                except sqlite3.Error as error:
                    self.last_problem = f"the last checkpoint failed: {error}"
                if self.last_problem is not None:
                    # A whole interval, even if woken: a checkpoint that cannot complete holds
                    # writers back for its busy timeout each time; unless they are held anyway.
                    self._writers_held.wait(CHECKPOINT_INTERVAL_SECONDS)
                self._writers_held.clear()
        finally:
            database.close()

    def _next_round(self) -> bool:
        """Wait for the tick or a wake-up; False once the store is closing."""
        self._wake.wait(CHECKPOINT_INTERVAL_SECONDS)
        self._wake.clear()
        return not self._closed.is_set()


def _checkpoint(database: sqlite3.Connection) -> str | None:
    """Copy the log into the database and truncate it; None, or why it could not complete."""
    database.execute("PRAGMA wal_checkpoint(PASSIVE)")
    busy, _, _ = database.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        return "the last checkpoint could not complete: a lock or an old snapshot held elsewhere"
    return None
