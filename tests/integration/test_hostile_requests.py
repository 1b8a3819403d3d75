"""Requests built to cost the server or to lose their answer, over real sockets to a real process.

A username longer than any 64 letters can be spelled is refused before normalisation, and an
oversized body is refused with a 413 that the client reads, even when it sends the whole body
before reading (as urllib does) and asks to close the connection.
"""

import http.client
import json
import socket
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from urllib.parse import quote

import httpx
import pytest

from hello_birthday.birthdays import MAX_RAW_USERNAME_LENGTH, MAX_USERNAME_LENGTH
from hello_birthday.request_body import DRAIN_BYTES, DRAIN_SECONDS
from tests.support.contract import assert_problem, born, describe, on_one_utc_day, smoke_username
from tests.support.service_process import ServiceProcess, ServiceStarter

from .raw_http import RawConnection

pytestmark = pytest.mark.timeout(120)

#: GREEK SMALL LETTER ALPHA WITH PSILI AND VARIA AND YPOGEGRAMMENI: four code points in NFD, the
#: longest spelling of any letter, so 64 of them spelled out reach the bound exactly.
LONGEST_LETTER = "\u1f82"
OVERSIZED_BODY = 2 * 1024 * 1024
SEND_BUFFER = 64 * 1024
TRIES = 10
#: Combining marks in descending canonical class, the order NFC takes longest to sort: a path
#: of 32 KiB percent-encoded (httptools refuses a URL past 64 KiB before the app sees it).
HOSTILE_MARKS = "\u0345\u0301\u0316" * (32 * 1024 // 18)


@pytest.fixture
def service(sqlite_store: dict[str, str], start_service: ServiceStarter) -> ServiceProcess:
    return start_service(sqlite_store)


def test_a_name_spelled_out_to_the_bound_is_one_user(service: ServiceProcess) -> None:
    composed = LONGEST_LETTER * MAX_USERNAME_LENGTH
    spelled = unicodedata.normalize("NFD", composed)
    assert len(spelled) == MAX_RAW_USERNAME_LENGTH  # the premise: exactly at the bound

    def check(today: date) -> None:
        with httpx.Client(base_url=service.url, timeout=10.0) as client:
            birth = born(3, today)
            saved = client.put(f"/hello/{quote(spelled)}", json={"dateOfBirth": str(birth)})
            assert saved.status_code == 204, describe(saved)
            greeted = client.get(f"/hello/{quote(composed)}")
            assert greeted.status_code == 200, describe(greeted)
            assert greeted.json()["message"].startswith(f"Hello, {composed}!")

    on_one_utc_day(check)


def test_one_code_point_past_the_bound_is_refused_by_its_raw_length(
    service: ServiceProcess,
) -> None:
    spelled = unicodedata.normalize("NFD", LONGEST_LETTER * MAX_USERNAME_LENGTH) + "a"
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        for method in ("GET", "PUT"):
            response = client.request(
                method, f"/hello/{quote(spelled)}", json={"dateOfBirth": "2000-01-01"}
            )
            body = assert_problem(response, 400)
            assert body["type"] == "urn:hello-birthday:problem:invalid-username"
            assert f"got {MAX_RAW_USERNAME_LENGTH + 1} characters" in str(body["detail"])


def test_a_long_run_of_combining_marks_is_refused(service: ServiceProcess) -> None:
    # Over a socket of its own: httpx refuses a URL this long.
    with closing(RawConnection(service.url)) as connection:
        connection.request("GET", f"/hello/{quote(HOSTILE_MARKS)}", {})
        response = connection.response()
    assert response is not None, service.log_tail()
    assert response.status == 400, response
    body = json.loads(response.body)
    assert body["type"] == "urn:hello-birthday:problem:invalid-username"
    assert f"got {len(HOSTILE_MARKS)} characters" in body["detail"]


def _chunks(size: int) -> Iterator[bytes]:
    for _ in range(size // 65536):
        yield b"x" * 65536


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_every_client_that_sends_a_2_mib_body_and_closes_reads_its_413(
    service: ServiceProcess, framing: str
) -> None:
    """urllib's way: the whole body goes out before the answer is read, on a closing connection.

    With a Content-Length the service refuses from the header; chunked, while streaming. The
    client's send buffer is kept small so that it is still sending when the answer comes, as on
    a real network: over loopback the kernel's buffers could otherwise take the whole body in.
    """
    outcomes: list[tuple[int | None, str | None, str]] = []
    for _ in range(TRIES):
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
        connection.connect()
        connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        headers = {"Connection": "close", "Content-Type": "application/json"}
        try:
            if framing == "chunked":
                connection.request(
                    "PUT",
                    f"/hello/{smoke_username()}",
                    body=_chunks(OVERSIZED_BODY),
                    headers=headers,
                    encode_chunked=True,
                )
            else:
                connection.request(
                    "PUT", f"/hello/{smoke_username()}", body=b"x" * OVERSIZED_BODY, headers=headers
                )
            response = connection.getresponse()
            body = json.loads(response.read())
            outcomes.append((response.status, response.getheader("Content-Type"), body["type"]))
        except OSError as error:  # a reset, a broken pipe: the 413 was lost
            outcomes.append((None, None, repr(error)))
        finally:
            connection.close()
    expected = (413, "application/problem+json", "urn:hello-birthday:problem:body-too-large")
    assert outcomes == [expected] * TRIES, service.log_tail()


def test_a_client_that_stalls_after_its_413_is_disconnected(service: ServiceProcess) -> None:
    """It reads the 413 at once; the rest of its body is waited for at most DRAIN_SECONDS."""
    with closing(RawConnection(service.url, timeout=DRAIN_SECONDS + 10)) as connection:
        headers = {"Content-Length": str(OVERSIZED_BODY), "Content-Type": "application/json"}
        connection.request("PUT", f"/hello/{smoke_username()}", headers)
        connection.send(b"x" * 1024)
        response = connection.response()
        assert response is not None, service.log_tail()
        assert response.status == 413
        assert response.headers["connection"] == "close"
        assert connection.closed_by_server(), "the connection outlived the drain's time bound"
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        assert client.get("/healthz").status_code == 200


def test_a_body_past_the_drain_bound_is_cut_off(service: ServiceProcess) -> None:
    """A client that keeps sending reads its 413, and the service stops reading after
    DRAIN_BYTES: the client's sending fails long before its declared 64 MiB are out."""
    declared = 64 * 1024 * 1024
    sent = 0
    failure: list[OSError] = []
    with closing(RawConnection(service.url, timeout=30)) as connection:
        headers = {"Content-Length": str(declared), "Content-Type": "application/json"}
        connection.request("PUT", f"/hello/{smoke_username()}", headers)

        def send_all() -> None:
            nonlocal sent
            try:
                while sent < declared:
                    connection.send(b"x" * 65536)
                    sent += 65536
            except OSError as error:
                failure.append(error)

        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        response = connection.response()
        sender.join(timeout=30)
    assert response is not None, service.log_tail()
    assert response.status == 413
    assert not sender.is_alive(), "the sender is still sending: the service kept reading"
    assert failure, f"all {sent} bytes were read: the drain has no bound in bytes"
    assert sent >= DRAIN_BYTES, f"cut off after {sent} bytes, before the drain's bound"
