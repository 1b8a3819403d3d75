"""The DynamoDB store's failure handling, against loopback endpoints that misbehave on purpose."""

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hello_birthday.settings import Settings
from hello_birthday.store import InvalidStoredDataError, Store, StoreUnavailableError, open_store
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


Script = list[tuple[int, dict[str, object]]]


class ScriptedDynamoDB(ThreadingHTTPServer):
    """Answers each DynamoDB request (a POST) with the next (status, body) of its script and
    records its target; answers credentials requests (a GET, as the ECS endpoint) likewise."""

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.script = script
        self.targets: list[str] = []
        self.credentials: Script = []
        self.credentials_delay = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedDynamoDB
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.targets.append(self.headers["X-Amz-Target"])
        self._answer(*self.server.script.pop(0))

    def do_GET(self) -> None:
        time.sleep(self.server.credentials_delay)
        self._answer(*self.server.credentials.pop(0))

    def _answer(self, status: int, answer: dict[str, object]) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def scripted(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ScriptedDynamoDB]:
    """A ScriptedDynamoDB with the fixture's parameter as its script, the store's endpoint."""
    server = ScriptedDynamoDB(list(request.param))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def container_credentials(
    scripted: ScriptedDynamoDB, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ScriptedDynamoDB:
    """Credentials from the scripted server only, as a task's role's come from ECS's endpoint."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws/credentials
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{scripted.url}/credentials")
    return scripted


def role_credentials(valid_for: timedelta) -> dict[str, object]:
    expiration = datetime.now(UTC) + valid_for
    return {
        "AccessKeyId": "testing",
        "SecretAccessKey": "testing",
        "Token": "testing",
        "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@asynccontextmanager
async def opened(timeout: float) -> AsyncIterator[Store]:
    """A store opened as the lifespan opens it, inside the running event loop, from settings
    read from the environment the fixtures set (its endpoint, its region); then closed."""
    env = {**os.environ, "HELLO_STORE": "dynamodb://birthdays", "HELLO_STORE_TIMEOUT": str(timeout)}
    store = open_store(Settings.from_env(env))
    try:
        yield store
    finally:
        await store.close()


def _get(username: str, timeout: float = 2.0) -> date | None:
    async def get() -> date | None:
        async with opened(timeout) as store:
            return await store.get(username)

    return asyncio.run(get())


def test_a_silent_endpoint_gets_one_retry_and_a_store_error(
    silent_endpoint: list[socket.socket],
) -> None:
    with pytest.raises(StoreUnavailableError, match=r"did not answer within 0\.3 s"):
        _get("Alice", timeout=0.2)
    assert len(silent_endpoint) == 2, "the first attempt and one retry"


def test_each_attempt_ends_at_the_attempt_timeout_and_the_call_at_its_deadline(
    silent_endpoint: list[socket.socket],
) -> None:
    """The two bounds are distinct: under a long deadline, the retry's own timeout ends the
    call (the deadline is tested above)."""

    async def get() -> None:
        store = DynamoDBStore(
            "birthdays",
            region="us-east-1",
            endpoint=os.environ["AWS_ENDPOINT_URL"],
            attempt_timeout=0.1,
            call_deadline=3.0,
        )
        try:
            await store.get("Alice")
        finally:
            await store.close()

    with pytest.raises(StoreUnavailableError, match=r"DynamoDB call failed: .*Timeout"):
        asyncio.run(get())
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
def test_one_transient_failure_is_absorbed(scripted: ScriptedDynamoDB) -> None:
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
    scripted: ScriptedDynamoDB, error: str, attempts: int
) -> None:
    """A second transient failure ends the call; a refusal (a bad request) is never retried."""
    with pytest.raises(StoreUnavailableError, match=error):
        _get("Alice")
    assert len(scripted.targets) == attempts


def stored(date_of_birth: dict[str, str] | None) -> list[tuple[int, dict[str, object]]]:
    """The script of a GetItem that finds Alice's item, with this dateOfBirth attribute."""
    item: dict[str, object] = {"username": {"S": "Alice"}}
    if date_of_birth is not None:
        item["dateOfBirth"] = date_of_birth
    return [(200, {"Item": item})]


@pytest.mark.parametrize(
    "scripted",
    [
        pytest.param(stored(None), id="no-date"),
        pytest.param(stored({"S": "1990-02-30"}), id="not-a-date"),
        pytest.param(stored({"N": "19900517"}), id="a-number"),
    ],
    indirect=True,
)
def test_an_item_without_a_readable_date_is_a_data_error_naming_the_user_only(
    scripted: ScriptedDynamoDB,
) -> None:
    with pytest.raises(InvalidStoredDataError, match="Alice") as raised:
        _get("Alice")
    assert "1990" not in str(raised.value), "the stored value is personal data"
    assert len(scripted.targets) == 1, "not retried: the item would not change"


@pytest.mark.parametrize("scripted", [[(200, {})]], indirect=True)
def test_the_dynamodb_endpoint_variable_wins_over_the_general_one(
    scripted: ScriptedDynamoDB,
    silent_endpoint: list[socket.socket],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # silent_endpoint, set up after scripted, holds AWS_ENDPOINT_URL.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", scripted.url)
    assert _get("Nobody") is None
    assert not silent_endpoint


def test_no_region_is_a_clear_error() -> None:
    # Settings.from_env refuses it at start (test_settings); settings made otherwise, here.
    with pytest.raises(StoreUnavailableError, match="AWS_REGION"):
        open_store(Settings(store_url="dynamodb://birthdays"))


@pytest.mark.parametrize("scripted", [[(200, ITEM)]], indirect=True)
def test_a_failed_credentials_refresh_is_a_store_error(
    container_credentials: ScriptedDynamoDB,
) -> None:
    # Credentials that expire within 10 minutes are fetched again before the next call.
    failing: tuple[int, dict[str, object]] = (500, {})
    fresh = role_credentials(timedelta(minutes=5))
    container_credentials.credentials = [(200, fresh), failing, failing, failing]

    async def twice() -> date | None:
        async with opened(2.0) as store:
            first = await store.get("Alice")
            with pytest.raises(StoreUnavailableError, match="TooManyRetries"):
                await store.get("Alice")
            return first

    assert asyncio.run(twice()) == date(1990, 5, 17)
    assert len(container_credentials.targets) == 1, "the second call never reached DynamoDB"


@pytest.mark.parametrize("scripted", [[(200, ITEM)]], indirect=True)
def test_one_calls_deadline_leaves_a_shared_credentials_refresh_alone(
    container_credentials: ScriptedDynamoDB,
) -> None:
    """Two calls wait for the same refresh; the first call's deadline must not cut it short for
    the second (it would get a CancelledError: a 500), which meets its own deadline instead."""
    soon_expired, fresh = (
        role_credentials(timedelta(minutes=5)),
        role_credentials(timedelta(hours=1)),
    )
    container_credentials.credentials = [(200, soon_expired), (200, fresh)]

    async def overlapping() -> tuple[date | BaseException | None, ...]:
        async with opened(0.2) as store:  # a deadline of 0.3 s per call

            async def later() -> date | None:
                await asyncio.sleep(0.15)
                return await store.get("Bob")

            await store.get("Alice")  # the role's credentials, valid for too short a time
            container_credentials.credentials_delay = 0.5  # so the refresh answers at 0.5 s
            outcomes = await asyncio.gather(store.get("Alice"), later(), return_exceptions=True)
            await asyncio.sleep(0.3)  # the refresh answers before the store closes
            return outcomes

    outcomes = asyncio.run(overlapping())
    assert [type(outcome) for outcome in outcomes] == [StoreUnavailableError] * 2, outcomes
