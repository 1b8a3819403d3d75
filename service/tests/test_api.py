"""The HTTP contract, in process, against both stores (SQLite on a real file, DynamoDB via moto)."""

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import date, datetime

import pytest
from httpx2 import Response
from starlette.testclient import TestClient
from starlette.types import Message, Receive

from hello_birthday import request_body
from hello_birthday.app import Endpoints
from hello_birthday.request_body import DRAIN_BYTES, MAX_BODY_BYTES
from tests.support.contract import INVALID_BODIES, INVALID_NAMES, RefusedBody
from tests.support.emulator import Emulator
from tests.support.stored_rows import write_row

PROBLEM_JSON = "application/problem+json"


def put(client: TestClient, name: str, body: object) -> int:
    return client.put(f"/hello/{name}", content=json.dumps(body)).status_code


def message(client: TestClient, name: str) -> str:
    response = client.get(f"/hello/{name}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["message"]
    text: str = response.json()["message"]
    return text


def assert_problem(response: Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, object] = response.json()
    assert problem["status"] == status
    assert isinstance(problem["type"], str)
    assert problem["type"]
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    return problem


def test_put_creates_then_replaces_with_204_and_no_body(client: TestClient) -> None:
    created = client.put("/hello/Alice", json={"dateOfBirth": "1990-12-03"})
    assert created.status_code == 204
    assert created.content == b""
    assert message(client, "Alice") == "Hello, Alice! Your birthday is in 5 day(s)"
    replaced = client.put("/hello/Alice", json={"dateOfBirth": "1990-11-29"})
    assert replaced.status_code == 204
    assert replaced.content == b""
    assert message(client, "Alice") == "Hello, Alice! Your birthday is in 1 day(s)"


def test_happy_birthday_on_the_day(client: TestClient) -> None:
    assert put(client, "Bob", {"dateOfBirth": "2000-11-28"}) == 204
    assert message(client, "Bob") == "Hello, Bob! Happy birthday!"


def test_days_follow_the_clock(client: TestClient, set_today: Callable[[date], None]) -> None:
    assert put(client, "Carol", {"dateOfBirth": "1984-01-01"}) == 204
    set_today(date(2026, 12, 31))
    assert message(client, "Carol") == "Hello, Carol! Your birthday is in 1 day(s)"
    set_today(date(2027, 1, 1))
    assert message(client, "Carol") == "Hello, Carol! Happy birthday!"
    set_today(date(2027, 1, 2))
    assert message(client, "Carol") == "Hello, Carol! Your birthday is in 364 day(s)"


def test_leap_day_birthday_in_common_and_leap_years(
    client: TestClient, set_today: Callable[[date], None]
) -> None:
    assert put(client, "Leap", {"dateOfBirth": "2000-02-29"}) == 204
    set_today(date(2027, 2, 28))
    assert message(client, "Leap") == "Hello, Leap! Happy birthday!"
    set_today(date(2028, 2, 28))
    assert message(client, "Leap") == "Hello, Leap! Your birthday is in 1 day(s)"


def test_unicode_names_in_either_normal_form_are_one_user(client: TestClient) -> None:
    assert put(client, "Zo%C3%AB", {"dateOfBirth": "1999-11-30"}) == 204  # composed ë
    assert message(client, "Zoe%CC%88") == "Hello, Zoë! Your birthday is in 2 day(s)"  # decomposed
    assert put(client, "Łukasz", {"dateOfBirth": "1999-11-29"}) == 204
    assert message(client, "Łukasz") == "Hello, Łukasz! Your birthday is in 1 day(s)"


def test_case_is_significant(client: TestClient) -> None:
    assert put(client, "dave", {"dateOfBirth": "1990-11-29"}) == 204
    assert put(client, "Dave", {"dateOfBirth": "1990-11-30"}) == 204
    assert message(client, "dave") == "Hello, dave! Your birthday is in 1 day(s)"
    assert message(client, "Dave") == "Hello, Dave! Your birthday is in 2 day(s)"


def test_unknown_user_is_404(client: TestClient) -> None:
    problem = assert_problem(client.get("/hello/Nobody"), 404)
    assert "Nobody" in str(problem["detail"])


@pytest.mark.parametrize("name", INVALID_NAMES.values(), ids=INVALID_NAMES.keys())
def test_invalid_username_is_400_on_get_and_put_and_stores_nothing(
    client: TestClient, endpoints: Endpoints, name: str
) -> None:
    assert_problem(client.get(f"/hello/{name}"), 400)
    assert_problem(client.put(f"/hello/{name}", json={"dateOfBirth": "2000-01-01"}), 400)
    assert_problem(client.get(f"/hello/{name}"), 400)
    assert client.portal is not None
    assert client.portal.call(endpoints.store.get, name) is None


@pytest.mark.parametrize("refused", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_body_is_refused_and_changes_nothing(
    client: TestClient, clock: Callable[[], datetime], refused: RefusedBody
) -> None:
    assert put(client, "Erin", {"dateOfBirth": "1990-11-29"}) == 204
    response = client.put("/hello/Erin", content=refused.build(clock().date()))
    assert_problem(response, refused.status)
    assert message(client, "Erin") == "Hello, Erin! Your birthday is in 1 day(s)"


def test_body_is_json_whatever_the_content_type(client: TestClient) -> None:
    response = client.put(
        "/hello/Frank",
        content=b'{"dateOfBirth": "1990-11-29"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 204
    assert message(client, "Frank") == "Hello, Frank! Your birthday is in 1 day(s)"


def test_oversized_body_is_413_declared_or_streamed(client: TestClient) -> None:
    padding = " " * 5000
    body = f'{{"dateOfBirth": "1990-11-29"{padding}}}'.encode()
    assert_problem(client.put("/hello/Gina", content=body), 413)

    def chunks() -> object:  # no Content-Length: the limit applies while streaming
        yield body[:3000]
        yield body[3000:]

    assert_problem(client.put("/hello/Gina", content=chunks()), 413)  # type: ignore[arg-type]
    assert_problem(client.get("/hello/Gina"), 404)


def put_as_a_server_would(
    client: TestClient,
    name: str,
    receive: Receive,
    headers: tuple[tuple[bytes, bytes], ...] = (),
    events: list[str] | None = None,
) -> list[Message]:
    """PUT /hello/<name> through the app with this receive(): bodies TestClient cannot send.

    The messages sent are returned; each one's type is also appended to events, if given.
    """
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if events is not None:
            events.append(message["type"])

    path = f"/hello/{name}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    assert client.portal is not None  # the app runs, lifespan and all, in the client's portal
    client.portal.call(client.app, scope, receive, send)
    return sent


def test_a_client_gone_mid_body_is_a_400_that_stores_nothing(client: TestClient) -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"dateOfBirth": "19', "more_body": True},
        {"type": "http.disconnect"},
    ]
    incoming = iter(messages)

    async def receive() -> Message:
        return next(incoming)

    sent = put_as_a_server_would(client, "Ivan", receive)
    assert sent[0]["status"] == 400  # the client's doing: neither a 500 nor a traceback
    assert_problem(client.get("/hello/Ivan"), 404)


KIB = b" " * 1024  # JSON whitespace


def offered_in_kib(kib: int, events: list[str]) -> Receive:
    """A receive() offering kib KiB of body, 1 KiB at a time, noting each read in events."""
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        events.append("read")
        return {"type": "http.request", "body": KIB, "more_body": read < kib}

    return receive


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_an_oversized_body_is_answered_at_once_then_discarded_up_to_a_bound(
    client: TestClient, declared: bool
) -> None:
    """The 413 goes out before the body is read whole; then the rest is read (so that the
    client, still sending, reads the answer) and thrown away, up to DRAIN_BYTES."""
    offered = 2 * DRAIN_BYTES // len(KIB)
    events: list[str] = []
    length = ((b"content-length", str(offered * len(KIB)).encode()),) if declared else ()
    receive = offered_in_kib(offered, events)
    sent = put_as_a_server_would(client, "Judy", receive, length, events)
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    answered = events.index("http.response.start")
    read_before = len(KIB) * events[:answered].count("read")
    assert read_before == (0 if declared else MAX_BODY_BYTES + len(KIB))
    # The answer's body went out whole before the discarding began; the response ends after it.
    assert events[answered + 1] == "http.response.body"
    assert sent[1]["more_body"] is True
    assert json.loads(sent[1]["body"])["status"] == 413
    assert events[-1] == "http.response.body"
    assert sent[-1].get("more_body", False) is False
    discarded = len(KIB) * events[answered:].count("read")
    assert DRAIN_BYTES <= discarded <= DRAIN_BYTES + len(KIB)


def test_a_body_that_stalls_after_a_413_is_waited_for_only_so_long(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_body, "DRAIN_SECONDS", 0.05)

    async def receive() -> Message:
        await asyncio.sleep(10)  # the rest of the body does not come: the drain gives up first
        raise AssertionError("still waiting for the body after 10 s: the drain has no time bound")

    length = ((b"content-length", b"100000"),)
    sent = put_as_a_server_would(client, "Kurt", receive, length)
    assert [message["type"] for message in sent] == [
        "http.response.start",
        *["http.response.body"] * 2,
    ]
    assert sent[0]["status"] == 413


def test_other_methods_are_405_with_allow(client: TestClient) -> None:
    for method in ("POST", "DELETE", "PATCH"):
        response = client.request(method, "/hello/Hank")
        assert_problem(response, 405)
        assert response.headers["allow"] == "GET, HEAD, PUT"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
def test_read_only_paths_are_405_with_the_same_allow_every_time(
    client: TestClient, path: str
) -> None:
    for method in ("POST", "PUT", "DELETE"):
        response = client.request(method, path)
        assert_problem(response, 405)
        assert response.headers["allow"] == "GET, HEAD"
    assert client.head(path).status_code == 200


@pytest.mark.parametrize("path", ["/nope", "/metrics"])  # metrics have a port of their own
def test_unknown_path_is_404_problem(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404)


def test_trailing_slash_is_404_not_a_redirect(client: TestClient) -> None:
    put = client.put("/hello/Ivy/", json={"dateOfBirth": "1990-11-29"}, follow_redirects=False)
    assert_problem(put, 404)
    assert "location" not in put.headers
    assert_problem(client.get("/hello/Ivy", follow_redirects=False), 404)


def test_health_readiness_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]["/hello/{username}"]) == {"parameters", "get", "put"}


def test_readiness_fails_once_shutdown_has_begun(client: TestClient, endpoints: Endpoints) -> None:
    endpoints.shutdown.set()
    assert_problem(client.get("/readyz"), 503)
    assert client.get("/healthz").status_code == 200


def test_a_stored_date_that_is_not_a_date_is_a_500_problem_logged_without_it(
    client: TestClient, store_url: str, moto: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    write_row(store_url, "Olga", "1990-02-30", emulator=moto)
    with caplog.at_level(logging.ERROR, logger="hello_birthday"):
        problem = assert_problem(client.get("/hello/Olga"), 500)
    assert problem["type"] == "urn:hello-birthday:problem:invalid-stored-date"
    assert "Olga" in str(problem["detail"])
    [record] = [record for record in caplog.records if record.name == "hello_birthday"]
    assert "Olga" in record.getMessage()
    assert "1990-02-30" not in caplog.text
    assert record.exc_info is None  # one line, no traceback
    assert put(client, "Olga", {"dateOfBirth": "1990-11-30"}) == 204  # a PUT repairs it
    assert message(client, "Olga") == "Hello, Olga! Your birthday is in 2 day(s)"
