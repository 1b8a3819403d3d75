"""Connections at the edges: clients that half-close their side, and more clients than allowed."""

import json
from contextlib import ExitStack, closing
from datetime import date

import httpx
import pytest

from tests.support.contract import born, days_in_greeting, on_one_utc_day, smoke_username
from tests.support.service_process import ServiceStarter

from .raw_http import RawConnection

pytestmark = pytest.mark.timeout(120)

TRIES = 20
MAX_CONNECTIONS = 3


def test_a_put_whose_client_half_closes_is_answered_and_stored(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    """The client sends its whole request, then shuts down its sending side (`nc -N` does): the
    request is complete, so it gets its 204, and then the service closes the connection."""
    service = start_service(sqlite_store)

    def check(today: date) -> None:
        answers = []
        users = [smoke_username() for _ in range(TRIES)]
        for days, user in enumerate(users):
            body = json.dumps({"dateOfBirth": born(days, today).isoformat()}).encode()
            with closing(RawConnection(service.url)) as connection:
                headers = {"Content-Length": str(len(body)), "Content-Type": "application/json"}
                connection.request("PUT", f"/hello/{user}", headers)
                connection.send_and_finish(body)  # end-of-file with the request's last byte
                response = connection.response()
                answers.append(None if response is None else response.status)
                if response is not None:
                    assert response.headers["connection"] == "close"
                    assert connection.closed_by_server()
        assert answers == [204] * TRIES, service.log_tail()
        with httpx.Client(base_url=service.url, timeout=10.0) as client:
            for days, user in enumerate(users):
                assert days_in_greeting(client.get(f"/hello/{user}"))[1] == days

    on_one_utc_day(check)


def test_a_half_closed_request_missing_its_body_is_dropped_unwritten(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    """The body can never arrive: the service closes without answering and writes nothing."""
    service = start_service(sqlite_store)
    user = smoke_username()
    with closing(RawConnection(service.url)) as connection:
        connection.request("PUT", f"/hello/{user}", {"Content-Length": "100"})
        connection.send(b'{"dateOfBirth": ')
        connection.finish_sending()
        assert connection.response() is None
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        assert client.get(f"/hello/{user}").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_a_request_beyond_the_connection_limit_gets_a_503(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    """With HELLO_MAX_CONNECTIONS open, one more connection is answered 503 and closed, not
    dropped; once it is gone, the others are served again."""
    service = start_service({**sqlite_store, "HELLO_MAX_CONNECTIONS": str(MAX_CONNECTIONS)})
    with ExitStack() as stack:
        served = [
            stack.enter_context(closing(RawConnection(service.url))) for _ in range(MAX_CONNECTIONS)
        ]
        for connection in served:
            connection.request("GET", "/healthz", {})
            response = connection.response()
            assert response is not None, service.log_tail()
            assert response.status == 200, response
        with closing(RawConnection(service.url)) as extra:
            extra.request("GET", "/healthz", {})
            refused = extra.response()
            assert refused is not None, "dropped without an answer"
            assert refused.status == 503, refused
            assert refused.headers["connection"] == "close"
            assert extra.closed_by_server()
        for connection in served:
            connection.request("GET", "/healthz", {})
            response = connection.response()
            assert response is not None, service.log_tail()
            assert response.status == 200, response
