"""Concurrency: 50 clients of mixed PUT/GET over many users and a few hot ones; nothing lost.

Each user owns a disjoint set of birthdays, and a greeting says how many days away the birthday
is, so every GET tells which user's write it returned.
"""

import queue
import random
import time
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest

from tests.support.contract import days_in_greeting, on_one_utc_day, smoke_username
from tests.support.service_process import ServiceProcess, ServiceStarter

from .traffic import Exchange, send

pytestmark = pytest.mark.timeout(120)

CLIENTS = 50
REQUESTS = 1000
USERS = 40
HOT_USERS = 3
HOT_SHARE = 0.4
DAYS_PER_USER = 8  # (USERS + HOT_USERS) * DAYS_PER_USER distinct birthdays: fewer than 365
LOAD_SECONDS = 60.0


class Workload:
    """The users, their own birthdays, and a bounded random plan of requests over them."""

    def __init__(self, today: date) -> None:
        self.today = today
        names = [smoke_username() for _ in range(USERS + HOT_USERS)]
        self.birthdays = {
            name: range(i * DAYS_PER_USER, (i + 1) * DAYS_PER_USER) for i, name in enumerate(names)
        }
        self.owner = {days: name for name, own in self.birthdays.items() for days in own}
        self.hot, self.regular = names[:HOT_USERS], names[HOT_USERS:]
        self.calls: list[Exchange] = []  # list.append is atomic: no lock

    def plan(self) -> list[tuple[str, int | None]]:
        """REQUESTS (user, days to PUT, or None to GET) pairs."""
        steps: list[tuple[str, int | None]] = []
        for _ in range(REQUESTS):
            user = random.choice(self.hot if random.random() < HOT_SHARE else self.regular)
            days = random.choice(self.birthdays[user]) if random.random() < 0.5 else None
            steps.append((user, days))
        return steps

    def run(self, url: str) -> None:
        """CLIENTS threads, each with its own connection, share the plan until it is done."""
        steps: queue.SimpleQueue[tuple[str, int | None]] = queue.SimpleQueue()
        for step in self.plan():
            steps.put(step)
        deadline = time.monotonic() + LOAD_SECONDS

        def client_loop() -> None:
            with httpx.Client(base_url=url, timeout=10.0) as client:
                while time.monotonic() < deadline:
                    try:
                        user, days = steps.get_nowait()
                    except queue.Empty:
                        return
                    self.calls.append(self._call(client, user, days))

        with ThreadPoolExecutor(CLIENTS) as pool:
            for client in [pool.submit(client_loop) for _ in range(CLIENTS)]:
                client.result()

    def _call(self, client: httpx.Client, user: str, days: int | None) -> Exchange:
        call = send(client, user, days, self.today)
        assert call.status is not None, call
        assert call.status < 500, call
        if call.method == "GET" and call.status == 200:
            assert call.days is not None, call
            assert self.owner.get(call.days) == user, f"{call} read another user's write"
        return call


def check_reads(calls: list[Exchange]) -> None:
    """A GET returns a value PUT before it ended; 404 only before any PUT was acknowledged."""
    puts: Mapping[str, list[Exchange]] = defaultdict(list)
    for call in calls:
        if call.method == "PUT":
            assert call.status == 204, call
            puts[call.user].append(call)
    for call in calls:
        if call.method != "GET":
            continue
        written = {p.days for p in puts[call.user] if p.sent_at < call.done_at}
        if call.status == 404:
            assert all(p.done_at > call.sent_at for p in puts[call.user]), call
        else:
            assert call.status == 200, call
            assert call.days in written, f"{call} read a value never written before it ended"


def expected_final(puts: list[Exchange]) -> set[int | None]:
    """What a user may hold at the end: any value written to it, or exactly the last one if that
    PUT started after every other PUT to it had been answered."""
    last = max(puts, key=lambda p: p.sent_at)
    if all(p.done_at < last.sent_at for p in puts if p is not last):
        return {last.days}
    return {p.days for p in puts}


def test_concurrent_clients_lose_and_cross_no_writes(
    store: dict[str, str], start_service: ServiceStarter
) -> None:
    lose_and_cross_no_writes(start_service(store))


def test_two_workers_on_one_sqlite_file_lose_and_cross_no_writes(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    # Their writes take turns on SQLite's one write lock, each waiting while the other commits.
    lose_and_cross_no_writes(start_service(sqlite_store, workers=2))


def lose_and_cross_no_writes(service: ServiceProcess) -> None:
    def load(today: date) -> None:
        workload = Workload(today)
        workload.run(service.url)
        assert len(workload.calls) == REQUESTS
        check_reads(workload.calls)
        with httpx.Client(base_url=service.url, timeout=10.0) as client:
            for user in workload.birthdays:
                puts = [c for c in workload.calls if c.user == user and c.method == "PUT"]
                if puts:
                    final = days_in_greeting(client.get(f"/hello/{user}"))[1]
                    assert final in expected_final(puts), (user, final, puts)

    on_one_utc_day(load)
