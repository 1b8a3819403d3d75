"""What waking an idle thread costs on this machine: it weighs on every figure at concurrency 1.

A GET at concurrency 1 wakes two idle threads more than the service's own store call does: the
server (by its client) and the client (by the server). On a virtual machine each wake-up can
cost a good part of a millisecond.
"""

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_SLEEP_SECONDS = 0.002


def thread_hop_us(samples: int = 200) -> float:
    """Median extra time of a short sleep run on another thread and waited for, over one inline.

    The difference is two wake-ups of an idle thread: the worker's, then the waiting caller's.
    """
    with ThreadPoolExecutor(1) as pool:
        pool.submit(time.sleep, 0).result()  # the thread exists before the timing starts
        hopped = [
            _timed(lambda: pool.submit(time.sleep, _SLEEP_SECONDS).result()) for _ in range(samples)
        ]
    inline = [_timed(lambda: time.sleep(_SLEEP_SECONDS)) for _ in range(samples)]
    return (statistics.median(hopped) - statistics.median(inline)) * 1e6


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
