"""Graceful shutdown under load: SIGTERM mid-stream loses no accepted request nor acked write.

Every request goes on a new connection (Connection: close). A request may go unanswered only
after SIGTERM and only if the server never handled it: refused, or closed before it was read
(its X-Request-ID is not in the access log). A handled request must get its answer.
"""

import subprocess
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest

from .contract import days_in_greeting, describe, on_one_utc_day, smoke_username
from .processes import wait_until
from .service import SHUTDOWN_TIMEOUT, Service, ServiceStarter
from .traffic import Exchange, send

pytestmark = pytest.mark.timeout(120)

WRITERS = 8
REQUESTS_PER_WRITER = 400
LOAD_SECONDS = 20.0
#: SIGTERM goes out once this many requests have completed: the stream is in full flow.
WARM_UP_EXCHANGES = 100
EXIT_MARGIN_SECONDS = 5.0


class Stream:
    """The writers' shared record: one writer per user, so its last 204 is its stored value."""

    def __init__(self, url: str, today: date) -> None:
        self.url = url
        self.today = today
        self.exchanges: list[Exchange] = []  # list.append is atomic: no lock
        self.terminated = threading.Event()

    def write_and_read(self, user: str) -> None:
        """PUT a new birthday and GET it, over and over, until the server is gone (bounded)."""
        deadline = time.monotonic() + LOAD_SECONDS
        headers = {"Connection": "close"}
        with httpx.Client(base_url=self.url, timeout=10.0, headers=headers) as client:
            for n in range(REQUESTS_PER_WRITER):
                if time.monotonic() > deadline:
                    return
                days = (n // 2) % 365 if n % 2 == 0 else None
                exchange = send(client, user, days, self.today)
                self.exchanges.append(exchange)
                if exchange.status is None and self.terminated.is_set():
                    return


def unanswered_but_accepted(
    exchanges: list[Exchange], sigterm_at: float, handled: set[str]
) -> list[Exchange]:
    """Requests that failed before SIGTERM, or that the server handled but never answered."""
    return [
        e
        for e in exchanges
        if e.status is None and (e.done_at < sigterm_at or e.request_id in handled)
    ]


def stale_reads(exchanges: list[Exchange]) -> list[Exchange]:
    """GETs that did not return their writer's last acknowledged PUT."""
    stale = []
    last: dict[str, int | None] = {}
    for e in sorted(exchanges, key=lambda e: e.sent_at):
        if e.method == "PUT" and e.status == 204:
            last[e.user] = e.days
        elif e.method == "GET" and e.status == 200 and e.days != last.get(e.user):
            stale.append(e)
    return stale


def last_acknowledged(exchanges: list[Exchange]) -> Mapping[str, int]:
    """user -> days of the last PUT answered 204 (one writer per user: well defined)."""
    acknowledged: dict[str, int] = {}
    for e in sorted(exchanges, key=lambda e: e.sent_at):
        if e.method == "PUT" and e.status == 204 and e.days is not None:
            acknowledged[e.user] = e.days
    return acknowledged


def handled_request_ids(service: Service) -> set[str]:
    return {v for entry in service.access_log() for v in entry.values() if isinstance(v, str)}


def test_sigterm_under_load_finishes_accepted_requests(
    store: dict[str, str], start_service: ServiceStarter
) -> None:
    on_one_utc_day(lambda today: shutdown_under_load(store, start_service, today))


def shutdown_under_load(store: dict[str, str], start_service: ServiceStarter, today: date) -> None:
    service = start_service(store)
    stream = Stream(service.url, today)
    with ThreadPoolExecutor(WRITERS) as pool:
        writers = [pool.submit(stream.write_and_read, smoke_username()) for _ in range(WRITERS)]
        wait_until(
            lambda: len(stream.exchanges) >= WARM_UP_EXCHANGES,
            timeout=LOAD_SECONDS,
            what="the request stream to warm up",
        )
        sigterm_at = time.monotonic()
        service.terminate()
        stream.terminated.set()
        try:
            exit_code = service.wait(SHUTDOWN_TIMEOUT + EXIT_MARGIN_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit within {SHUTDOWN_TIMEOUT} s of SIGTERM\n{service.log_tail()}")
        for writer in writers:
            writer.result(timeout=LOAD_SECONDS)

    exchanges = stream.exchanges
    assert exit_code == 0, service.log_tail()
    answered = [e for e in exchanges if e.status is not None]
    wrong = [e for e in answered if (e.method, e.status) not in {("PUT", 204), ("GET", 200)}]
    assert not wrong, f"{len(wrong)} unexpected statuses, e.g. {wrong[:3]}\n{service.log_tail()}"
    in_flight = [e for e in answered if e.sent_at < sigterm_at < e.done_at]
    assert in_flight, "no request was in flight at SIGTERM: the test proved nothing"
    dropped = unanswered_but_accepted(exchanges, sigterm_at, handled_request_ids(service))
    assert not dropped, f"accepted but unanswered: {dropped[:3]}\n{service.log_tail()}"
    stale = stale_reads(exchanges)
    assert not stale, f"a GET missed its writer's acknowledged PUT: {stale[:3]}"

    restarted = start_service(store)
    with httpx.Client(base_url=restarted.url, timeout=10.0) as client:
        for user, days in last_acknowledged(exchanges).items():
            response = client.get(f"/hello/{user}")
            assert days_in_greeting(response)[1] == days, describe(response)
