"""The read cache: what a store read, until any store on the same database writes."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from hello_birthday.store import read_cache
from hello_birthday.store.generation import SharedGeneration
from hello_birthday.store.read_cache import ReadCache

BORN = date(1990, 5, 17)


@pytest.fixture
def caches(tmp_path: Path) -> Iterator[tuple[ReadCache, ReadCache]]:
    """Two workers' caches on one database (one generation file)."""
    path = str(tmp_path / "birthdays.db-generation")
    first, second = ReadCache(SharedGeneration(path)), ReadCache(SharedGeneration(path))
    yield first, second
    first.close()
    second.close()


def test_a_user_not_read_is_a_miss_and_unknown_users_are_kept_too(
    caches: tuple[ReadCache, ReadCache],
) -> None:
    cache, _ = caches
    with pytest.raises(KeyError):
        cache.lookup("Ann")
    cache.remember("Ann", BORN)
    cache.remember("Bob", None)
    assert cache.lookup("Ann") == BORN
    assert cache.lookup("Bob") is None


def test_a_write_through_any_cache_empties_every_cache(
    caches: tuple[ReadCache, ReadCache],
) -> None:
    writer, _ = caches
    for cache in caches:
        cache.remember("Ann", BORN)
    writer.written()
    for cache in caches:
        with pytest.raises(KeyError):
            cache.lookup("Ann")


def test_a_read_overtaken_by_a_write_is_kept_only_until_the_next_lookup(
    caches: tuple[ReadCache, ReadCache],
) -> None:
    """A value read before another worker's write may be remembered, but is never answered
    after the lookup that follows that write."""
    reader, writer = caches
    with pytest.raises(KeyError):
        reader.lookup("Ann")
    writer.written()  # a write committed while the reader's row was being read
    reader.remember("Ann", None)
    with pytest.raises(KeyError):
        reader.lookup("Ann")


def test_a_full_cache_starts_over(
    caches: tuple[ReadCache, ReadCache], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_cache, "CACHE_LIMIT", 2)
    cache, _ = caches
    cache.remember("Ann", BORN)
    cache.remember("Bob", BORN)
    cache.remember("Cid", BORN)  # no room: emptied first
    assert cache.lookup("Cid") == BORN
    for name in ("Ann", "Bob"):
        with pytest.raises(KeyError):
            cache.lookup(name)
