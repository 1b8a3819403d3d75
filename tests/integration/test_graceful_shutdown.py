"""Graceful shutdown under load: SIGTERM mid-stream loses no accepted request nor acked write.

Besides the stream, one PUT is certainly in flight when SIGTERM arrives: the server has asked
for its body (it sent `100 Continue`), and it cannot finish before the test lets it (on SQLite the
test holds the database's write lock, on DynamoDB it holds back the body). It must still get its
204 and its date must be stored. Meanwhile `/readyz` must answer 503.

Every stream request goes on a new connection (Connection: close). One may go unanswered only
after SIGTERM, and only where the server cannot have read it: the connection was refused or
reset (the server's kernel still held the request unread, or got it after the close), or the
request only began to go out after SIGTERM. A missing access-log line proves nothing: a dying
process loses exactly those.
"""

import errno
import json
import sqlite3
import subprocess
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import date

import httpx
import pytest

from hello_birthday.request_body import DRAIN_SECONDS
from tests.support.contract import born, days_in_greeting, describe, on_one_utc_day, smoke_username
from tests.support.processes import wait_until
from tests.support.service_process import SHUTDOWN_TIMEOUT, ServiceStarter

from .raw_http import RawConnection, RawResponse
from .traffic import Exchange, send

pytestmark = pytest.mark.timeout(120)

WRITERS = 8
REQUESTS_PER_WRITER = 400
LOAD_SECONDS = 20.0
#: SIGTERM goes out once this many requests have completed: the stream is in full flow.
WARM_UP_EXCHANGES = 100
EXIT_MARGIN_SECONDS = 5.0
#: The held PUT waits on SQLite's lock across SIGTERM: it must not give up (503) meanwhile.
STORE_TIMEOUT = "5"
HELD_PUT_DAYS = 42


class Stream:
    """The writers' shared record: one writer per user, so its last 204 is its stored value."""

    def __init__(self, url: str, today: date) -> None:
        self.url = url
        self.today = today
        self.exchanges: list[Exchange] = []  # list.append is atomic: no lock
        self.terminated = threading.Event()
        #: X-Request-ID -> when httpcore began to write the request: no byte of it left earlier.
        self.write_started: dict[str, float] = {}  # one writer per key: no lock

    def _trace(self, request: httpx.Request) -> None:
        """Event hook: have httpcore report when it starts writing this request."""
        request_id = request.headers["X-Request-ID"]

        def trace(event: str, info: Mapping[str, object]) -> None:
            if event == "http11.send_request_headers.started":
                self.write_started[request_id] = time.monotonic()

        request.extensions["trace"] = trace

    def write_and_read(self, user: str) -> None:
        """PUT a new birthday and GET it, over and over, until the server is gone (bounded)."""
        deadline = time.monotonic() + LOAD_SECONDS
        headers = {"Connection": "close"}
        hooks = {"request": [self._trace]}
        with httpx.Client(
            base_url=self.url, timeout=10.0, headers=headers, event_hooks=hooks
        ) as client:
            for n in range(REQUESTS_PER_WRITER):
                if time.monotonic() > deadline:
                    return
                days = (n // 2) % 365 if n % 2 == 0 else None
                exchange = send(client, user, days, self.today)
                self.exchanges.append(exchange)
                if exchange.status is None and self.terminated.is_set():
                    return


class HeldPut:
    """A PUT the server has started on (it asked for the body) and that the test finishes."""

    def __init__(self, url: str, user: str, today: date) -> None:
        self.user = user
        self.body = json.dumps({"dateOfBirth": born(HELD_PUT_DAYS, today).isoformat()}).encode()
        self.request_id = uuid.uuid4().hex
        self._connection = RawConnection(url)

    def start(self) -> None:
        """Send the head and return once the server's handler has asked for the body."""
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(self.body)),
            "Expect": "100-continue",
            "Connection": "close",
            "X-Request-ID": self.request_id,
        }
        self._connection.request("PUT", f"/hello/{self.user}", headers)
        interim = self._connection.response()
        assert interim is not None, "closed instead of asking for the body"
        assert interim.status == 100, interim

    def send_body(self) -> None:
        self._connection.send(self.body)

    def response(self) -> RawResponse | None:
        return self._connection.response()

    def close(self) -> None:
        self._connection.close()


@contextmanager
def write_lock(store: Mapping[str, str]) -> Iterator[sqlite3.Connection | None]:
    """On SQLite, a connection of this process holding the database's write lock; else None."""
    url = store["HELLO_STORE"]
    if not url.startswith("sqlite:///"):
        yield None
        return
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        holder.close()  # rolls back whatever is still open


#: Refused, or reset by the peer (directly or as a broken pipe): the server had not read it.
UNREAD_ERRORS = tuple(
    f"[Errno {code}]" for code in (errno.ECONNREFUSED, errno.ECONNRESET, errno.EPIPE)
)


def dropped(stream: Stream, sigterm_at: float) -> list[Exchange]:
    """Stream requests left unanswered that the server may have read.

    Excused, after SIGTERM only: a refused connection (the listener is closed); a reset one (a
    socket closed with the request still unread, or that got it after the close, is reset by the
    kernel, while one whose request the process had read ends with an orderly close); and a
    request that began to go out after SIGTERM.
    """
    return [
        e
        for e in stream.exchanges
        if e.status is None
        and not (
            e.done_at > sigterm_at
            and (
                any(code in (e.error or "") for code in UNREAD_ERRORS)
                or stream.write_started.get(e.request_id, sigterm_at) > sigterm_at
            )
        )
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


def test_sigterm_under_load_finishes_accepted_requests(
    store: dict[str, str], start_service: ServiceStarter
) -> None:
    on_one_utc_day(lambda today: shutdown_under_load(store, start_service, today))


def shutdown_under_load(store: dict[str, str], start_service: ServiceStarter, today: date) -> None:
    service = start_service({**store, "HELLO_STORE_TIMEOUT": STORE_TIMEOUT})
    stream = Stream(service.url, today)
    held = HeldPut(service.url, smoke_username(), today)
    with (
        ThreadPoolExecutor(WRITERS) as pool,
        closing(held),
        closing(RawConnection(service.url)) as probe,
    ):
        # An open keep-alive connection, served before SIGTERM.
        probe.request("GET", "/readyz", {})
        before = probe.response()
        assert before is not None, "/readyz before SIGTERM: closed"
        assert before.status == 200, before
        writers = [pool.submit(stream.write_and_read, smoke_username()) for _ in range(WRITERS)]
        wait_until(
            lambda: len(stream.exchanges) >= WARM_UP_EXCHANGES,
            timeout=LOAD_SECONDS,
            what="the request stream to warm up",
        )
        with write_lock(store) as lock:
            held.start()
            if lock is not None:
                held.send_body()  # the server now waits for the lock we hold
            service.terminate()
            sigterm_at = time.monotonic()
            stream.terminated.set()
            probe.request("GET", "/readyz", {})
            readiness = probe.response()
            if lock is None:
                held.send_body()
        held_answer = held.response()  # on SQLite, once the lock is released
        try:
            exit_code = service.wait(SHUTDOWN_TIMEOUT + EXIT_MARGIN_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit within {SHUTDOWN_TIMEOUT} s of SIGTERM\n{service.log_tail()}")
        for writer in writers:
            writer.result(timeout=LOAD_SECONDS)

    assert held_answer is not None, (
        f"the PUT in flight at SIGTERM got no answer\n{service.log_tail()}"
    )
    assert held_answer.status == 204, f"{held_answer}\n{service.log_tail()}"
    if readiness is None:
        # uvicorn closes idle connections at its first shutdown tick, up to 0.1 s after the
        # signal; when that tick comes before the probe is read, readiness cannot be seen.
        warnings.warn("/readyz after SIGTERM: the connection closed first", stacklevel=1)
    else:
        assert readiness.status == 503, f"/readyz after SIGTERM: {readiness}"
    assert exit_code == 0, service.log_tail()
    exchanges = stream.exchanges
    answered = [e for e in exchanges if e.status is not None]
    wrong = [e for e in answered if (e.method, e.status) not in {("PUT", 204), ("GET", 200)}]
    assert not wrong, f"{len(wrong)} unexpected statuses, e.g. {wrong[:3]}\n{service.log_tail()}"
    lost = dropped(stream, sigterm_at)
    assert not lost, f"{len(lost)} unanswered, maybe read: {lost[:3]}\n{service.log_tail()}"
    stale = stale_reads(exchanges)
    assert not stale, f"a GET missed its writer's acknowledged PUT: {stale[:3]}"

    restarted = start_service(store)
    expected = {**last_acknowledged(exchanges), held.user: HELD_PUT_DAYS}
    with httpx.Client(base_url=restarted.url, timeout=10.0) as client:
        for user, days in expected.items():
            response = client.get(f"/hello/{user}")
            assert days_in_greeting(response)[1] == days, describe(response)


def test_sigterm_while_a_body_stalls_answers_a_problem_without_a_traceback(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    """A PUT whose body stops halfway holds the shutdown for its whole grace period; then it is
    answered 503 problem+json (uvicorn's own answer would be a plain-text 500, and a traceback in
    the log), and the process still exits 0."""
    service = start_service(sqlite_store)
    user = smoke_username()
    with closing(RawConnection(service.url, timeout=SHUTDOWN_TIMEOUT + 10)) as stalled:
        headers = {"Content-Length": "40", "Expect": "100-continue"}
        stalled.request("PUT", f"/hello/{user}", headers)
        interim = stalled.response()  # the handler is reading the body
        assert interim is not None, service.log_tail()
        assert interim.status == 100, interim
        stalled.send(b'{"dateOfBirth": ')
        service.terminate()
        answer = stalled.response()
        exit_code = service.wait(SHUTDOWN_TIMEOUT + EXIT_MARGIN_SECONDS)
    assert answer is not None, f"closed without an answer\n{service.log_tail()}"
    assert answer.status == 503, f"{answer}\n{service.log_tail()}"
    assert answer.headers["content-type"] == "application/problem+json", answer
    assert json.loads(answer.body)["type"] == "urn:hello-birthday:problem:shutting-down"
    assert "Traceback" not in service.output(), service.log_tail()
    assert exit_code == 0, service.log_tail()


def test_sigterm_while_a_413_drains_ends_it_without_a_traceback(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    """The rest of an oversized body is being read and thrown away when the grace period (1 s,
    shorter than the drain's bound) ends: the client has its 413, the connection closes, and
    the process exits 0 without a traceback."""
    service = start_service({**sqlite_store, "HELLO_SHUTDOWN_TIMEOUT": "1"})
    with closing(RawConnection(service.url, timeout=DRAIN_SECONDS + 10)) as draining:
        draining.request("PUT", f"/hello/{smoke_username()}", {"Content-Length": "1000000"})
        draining.send(b"x" * 1024)
        answer = draining.response()
        assert answer is not None, service.log_tail()
        assert answer.status == 413, answer
        service.terminate()
        assert draining.closed_by_server()
        exit_code = service.wait(1 + EXIT_MARGIN_SECONDS)
    assert "Traceback" not in service.output(), service.log_tail()
    assert exit_code == 0, service.log_tail()
