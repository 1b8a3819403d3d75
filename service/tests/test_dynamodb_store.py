"""The DynamoDB store against an endpoint that accepts connections and never answers."""

import asyncio
import socket
import threading

import pytest

from hello_birthday.store import StoreUnavailableError
from hello_birthday.store.dynamodb import DynamoDBStore


@pytest.fixture
def silent_endpoint(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    """Points botocore at a loopback port that accepts and never answers; its connections."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        with listener:
            while True:
                connection, _ = listener.accept()
                accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return accepted


def test_a_silent_endpoint_gets_one_retry_and_a_store_error(
    silent_endpoint: list[socket.socket],
) -> None:
    store = DynamoDBStore("birthdays", timeout=0.2)
    with pytest.raises(StoreUnavailableError, match=r"did not answer within 0\.3 s"):
        asyncio.run(store.get("Alice"))
    # The call was cut off at its deadline; its thread finishes the attempts it had left.
    store._threads.shutdown(wait=True)
    assert len(silent_endpoint) == 2, "the first attempt and one retry"
