"""The DynamoDB store's failure handling, against loopback endpoints that misbehave on purpose."""

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hello_birthday.store import StoreUnavailableError
from hello_birthday.store.dynamodb import DynamoDBStore

ITEM = {"Item": {"username": {"S": "Alice"}, "dateOfBirth": {"S": "1990-05-17"}}}


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)


@pytest.fixture
def silent_endpoint(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    """A loopback port that accepts connections and never answers; the connections it took."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        with listener:
            while True:
                connection, _ = listener.accept()
                accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
    return accepted


class ScriptedDynamoDB(ThreadingHTTPServer):
    """Answers each request with the next (status, body) of its script; records the targets."""

    def __init__(self, script: list[tuple[int, dict[str, object]]]) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.script = script
        self.targets: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedDynamoDB
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.targets.append(self.headers["X-Amz-Target"])
        status, answer = self.server.script.pop(0)
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def scripted(request: pytest.FixtureRequest) -> Iterator[ScriptedDynamoDB]:
    server = ScriptedDynamoDB(list(request.param))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _get(username: str, timeout: float = 2.0) -> date | None:
    async def get() -> date | None:
        store = DynamoDBStore("birthdays", timeout)  # inside the loop, as in the lifespan
        try:
            return await store.get(username)
        finally:
            await store.close()

    return asyncio.run(get())


def test_a_silent_endpoint_gets_one_retry_and_a_store_error(
    silent_endpoint: list[socket.socket],
) -> None:
    with pytest.raises(StoreUnavailableError, match=r"did not answer within 0\.3 s"):
        _get("Alice", timeout=0.2)
    assert len(silent_endpoint) == 2, "the first attempt and one retry"


THROTTLED = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException"}
INVALID = {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad key"}


@pytest.mark.parametrize(
    "scripted",
    [
        pytest.param([(500, {}), (200, ITEM)], id="internal-error"),
        pytest.param([(400, THROTTLED), (200, ITEM)], id="throttled"),
    ],
    indirect=True,
)
def test_one_transient_failure_is_absorbed(
    scripted: ScriptedDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", scripted.url)
    assert _get("Alice") == date(1990, 5, 17)
    assert scripted.targets == ["DynamoDB_20120810.GetItem"] * 2


@pytest.mark.parametrize(
    ("scripted", "error", "attempts"),
    [
        pytest.param([(500, {}), (503, {}), (200, ITEM)], "ServiceUnavailable", 2, id="twice"),
        pytest.param([(400, INVALID), (200, ITEM)], "ValidationException", 1, id="refused"),
    ],
    indirect=["scripted"],
)
def test_a_failure_not_absorbed_is_a_store_error_naming_it(
    scripted: ScriptedDynamoDB, error: str, attempts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second transient failure ends the call; a refusal (a bad request) is never retried."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", scripted.url)
    with pytest.raises(StoreUnavailableError, match=error):
        _get("Alice")
    assert len(scripted.targets) == attempts


@pytest.mark.parametrize("scripted", [[(200, {})]], indirect=True)
def test_the_dynamodb_endpoint_variable_wins_over_the_general_one(
    scripted: ScriptedDynamoDB,
    silent_endpoint: list[socket.socket],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", scripted.url)
    assert _get("Nobody") is None
    assert not silent_endpoint


def test_no_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(StoreUnavailableError, match="AWS_REGION"):
        _get("Alice")
