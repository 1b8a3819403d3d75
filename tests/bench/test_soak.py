"""The soak's sampler: the store's four files, summed, and the log on its own."""

from pathlib import Path

from . import soak


def test_the_footprint_is_the_four_files_and_a_missing_one_counts_as_empty(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bench.db"
    sizes = {"": 40_960, "-wal": 3 * 1024 * 1024, "-shm": 32_768}  # no -generation file
    for suffix, size in sizes.items():
        Path(f"{database}{suffix}").write_bytes(b"\0" * size)
    (tmp_path / "server.log").write_bytes(b"\0" * 10_000)  # not the store's
    with soak.watched(database) as peaks:
        pass
    assert peaks.wal == sizes["-wal"]
    assert peaks.footprint == sum(sizes.values())
    assert peaks.samples >= 1
