"""A worker's cache of the dates of birth it read, emptied once any worker on the file writes.

A read transaction costs two fcntl(2) calls for SQLite's shared locks, and its engine's code is
cold by the next request; a dict lookup costs neither. The caches of all the workers on one
database stay correct through one shared number (hello_birthday.store.generation), bumped after
each commit and read from memory before each lookup: a cache whose number moved is emptied
first. So a GET that starts after a PUT's 204 sees that write, whichever worker answers. A write
made outside the service (the sqlite3 shell), or by a worker killed between its commit and its
bump, reaches a worker that cached the user only with the next write or a restart.
"""

from datetime import date

from hello_birthday.store.generation import SharedGeneration

#: Users a cache holds before it starts over, as names are anyone's input: 7 MiB of 20-letter
#: names, 19 MiB at most (64 letters outside the Basic Multilingual Plane).
CACHE_LIMIT = 50_000


class ReadCache:
    """What one store read (None: an unknown user), valid while the shared number stays put."""

    def __init__(self, generation: SharedGeneration) -> None:
        self._generation = generation
        self._dates: dict[str, date | None] = {}
        # The number read before anything now in the cache was read from the database.
        self._dates_generation = generation.read()

    def lookup(self, username: str) -> date | None:
        """The date cached for the user, or KeyError; the cache is emptied first if any store
        on the database has written since it was filled."""
        generation = self._generation.read()
        if generation != self._dates_generation:
            self._dates.clear()
            self._dates_generation = generation
        return self._dates[username]

    def remember(self, username: str, born: date | None) -> None:
        """Keep what was read for the user, which must have been read after a lookup: a write
        committed since that lookup is either in it or has moved the number on."""
        if len(self._dates) >= CACHE_LIMIT:
            self._dates.clear()
        self._dates[username] = born

    def written(self) -> None:
        """A write is committed: every cache on the database, this one too, empties itself
        before its next lookup."""
        self._generation.bump()

    def close(self) -> None:
        self._generation.close()
