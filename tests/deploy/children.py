"""The command lines and environments of this process's children, read from the OS while they run.

The gates are separate processes; what their environment holds is observed here from outside,
as /proc shows it, not taken from the code that built it.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

POLL_SECONDS = 0.02


class ChildWatch:
    """What watch_children saw: `seen` maps PID to (command line, environment)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[list[str], dict[str, str]]] = {}

    def running(self, argument: str) -> list[dict[str, str]]:
        """The environments of the children whose command line had this argument."""
        return [env for argv, env in self.seen.values() if argument in argv]


@contextmanager
def watch_children() -> Iterator[ChildWatch]:
    """Polls every descendant of this process until the block ends."""
    watch = ChildWatch()
    stop = threading.Event()

    def poll() -> None:
        me = psutil.Process()
        while not stop.wait(POLL_SECONDS):
            for child in me.children(recursive=True):
                # Read again on every pass: right after fork, a child still shows our own
                # command line until it execs.
                try:
                    watch.seen[child.pid] = (child.cmdline(), child.environ())
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        thread.join()
