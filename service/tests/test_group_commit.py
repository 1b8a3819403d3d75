"""Group commit: the writes queued in one pass of the event loop are committed together, each
returns once its group is, and a group fails as a whole."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from hello_birthday.store.group_commit import GroupCommit

Scenario = Callable[["Recorder", GroupCommit[str]], Awaitable[None]]


class Recorder:
    """A commit function that records each group and its deadline; it can be made to fail, or
    to wait until released."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.deadlines: list[float] = []
        self.failure: Exception | None = None
        self.released = asyncio.Event()
        self.released.set()

    async def commit(self, writes: list[str], deadline: float) -> None:
        self.groups.append(writes)
        self.deadlines.append(deadline)
        await self.released.wait()
        if self.failure is not None:
            raise self.failure


def run(scenario: Scenario) -> None:
    async def main() -> None:
        recorder = Recorder()
        group = GroupCommit[str](recorder.commit)
        try:
            await scenario(recorder, group)
        finally:
            await group.close()

    asyncio.run(main())


def test_the_writes_of_one_pass_are_one_group_in_their_order() -> None:
    async def scenario(recorder: Recorder, group: GroupCommit[str]) -> None:
        await asyncio.gather(*(group.write(name, 10.0) for name in ("Ann", "Bob", "Cid")))
        assert recorder.groups == [["Ann", "Bob", "Cid"]]

    run(scenario)


def test_writes_awaited_one_after_another_are_groups_of_one() -> None:
    async def scenario(recorder: Recorder, group: GroupCommit[str]) -> None:
        for name in ("Ann", "Bob"):
            await group.write(name, 10.0)
            assert recorder.groups[-1] == [name]  # committed before it returned
        assert recorder.groups == [["Ann"], ["Bob"]]

    run(scenario)


def test_writes_queued_while_a_group_commits_are_the_next_group() -> None:
    async def scenario(recorder: Recorder, group: GroupCommit[str]) -> None:
        recorder.released.clear()
        first = asyncio.create_task(group.write("Ann", 10.0))
        await asyncio.sleep(0.01)  # Ann's group is committing
        later = [asyncio.create_task(group.write(name, 10.0)) for name in ("Bob", "Cid")]
        await asyncio.sleep(0.01)
        assert recorder.groups == [["Ann"]]
        assert not first.done()
        recorder.released.set()
        await asyncio.gather(first, *later)
        assert recorder.groups == [["Ann"], ["Bob", "Cid"]]

    run(scenario)


def test_a_group_that_fails_fails_each_of_its_writes_and_no_other() -> None:
    async def scenario(recorder: Recorder, group: GroupCommit[str]) -> None:
        recorder.failure = OSError("disk full")
        outcomes = await asyncio.gather(
            group.write("Ann", 10.0), group.write("Bob", 10.0), return_exceptions=True
        )
        assert list(outcomes) == [recorder.failure, recorder.failure]
        recorder.failure = None
        await group.write("Cid", 10.0)
        assert recorder.groups == [["Ann", "Bob"], ["Cid"]]

    run(scenario)


def test_a_group_is_committed_by_its_earliest_deadline() -> None:
    async def scenario(recorder: Recorder, group: GroupCommit[str]) -> None:
        await asyncio.gather(group.write("Ann", 7.0), group.write("Bob", 5.0))
        assert recorder.deadlines == [5.0]

    run(scenario)


def test_a_cancelled_write_leaves_the_rest_of_its_group_alone() -> None:
    async def scenario(recorder: Recorder, group: GroupCommit[str]) -> None:
        recorder.released.clear()
        cancelled = asyncio.create_task(group.write("Ann", 10.0))
        kept = asyncio.create_task(group.write("Bob", 10.0))
        await asyncio.sleep(0.01)  # their group is committing
        cancelled.cancel()
        recorder.released.set()
        await asyncio.wait_for(kept, timeout=5)
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert recorder.groups == [["Ann", "Bob"]]

    run(scenario)


def test_closing_waits_for_the_writes_still_queued() -> None:
    async def scenario(recorder: Recorder, group: GroupCommit[str]) -> None:
        writes = [asyncio.create_task(group.write(name, 10.0)) for name in ("Ann", "Bob")]
        await asyncio.sleep(0)  # queued; their group has not committed yet
        await group.close()
        assert recorder.groups == [["Ann", "Bob"]]
        assert all(write.done() for write in writes)

    run(scenario)
