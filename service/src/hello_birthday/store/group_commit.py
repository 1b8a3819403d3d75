"""Writes committed in groups: those queued in one pass of the event loop share one transaction.

A transaction's fixed costs (taking the lock, appending to the log, the checks around it) are
paid once per group rather than once per write. Each write returns only once its group is
committed, and a group fails or succeeds as a whole. One group commits at a time; writes queued
meanwhile form the next. A group is committed by its earliest deadline, so a write queued behind
a group that waited for a lock does not then wait its own whole time again.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

W = TypeVar("W")
#: Commits a group of writes before the deadline (a loop time), or raises.
Commit = Callable[[list[W], float], Awaitable[None]]


class GroupCommit(Generic[W]):
    """Queues writes and commits them in groups with commit(writes, deadline)."""

    def __init__(self, commit: Commit[W]) -> None:
        self._commit = commit
        self._queued: list[tuple[W, float, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def write(self, write: W, deadline: float) -> None:
        """Queue the write; return once its group is committed, or raise the group's error."""
        committed = asyncio.get_running_loop().create_future()
        self._queued.append((write, deadline, committed))
        if self._committer is None or self._committer.done():
            # Its first step runs in the next pass, once this pass's other writes have queued.
            self._committer = asyncio.create_task(self._commit_queued())
        await committed

    async def _commit_queued(self) -> None:
        while self._queued:
            group, self._queued = self._queued, []
            try:
                deadline = min(deadline for _, deadline, _ in group)
                await self._commit([write for write, _, _ in group], deadline)
            except Exception as error:  # every write of the group fails as the group did
                outcome: BaseException | None = error
            else:
                outcome = None
            for _, _, committed in group:
                if committed.done():  # its caller was cancelled
                    continue
                if outcome is None:
                    committed.set_result(None)
                else:
                    committed.set_exception(outcome)

    async def close(self) -> None:
        """Return once every write queued so far has been committed or has failed."""
        if self._committer is not None:
            await self._committer
