"""Recorded PUT/GET traffic of the load tests: each request, when it went, and what came of it."""

import time
import uuid
from dataclasses import dataclass
from datetime import date

import httpx

from tests.support.contract import born, days_in_greeting, describe


@dataclass(frozen=True)
class Exchange:
    """One request and its outcome; times are time.monotonic()."""

    user: str
    method: str
    days: int | None  # the birthday distance a PUT wrote, or a GET's greeting read
    request_id: str
    sent_at: float
    done_at: float
    status: int | None  # None: no response
    error: str | None = None  # the transport error, when there was no response


def send(client: httpx.Client, user: str, days: int | None, today: date) -> Exchange:
    """PUT a birthday `days` away, or GET when days is None; a greeting must name its user."""
    request_id = uuid.uuid4().hex
    headers = {"X-Request-ID": request_id}
    if days is None:
        request = client.build_request("GET", f"/hello/{user}", headers=headers)
    else:
        body = {"dateOfBirth": born(days, today).isoformat()}
        request = client.build_request("PUT", f"/hello/{user}", json=body, headers=headers)
    sent_at = time.monotonic()
    try:
        response = client.send(request)
    except httpx.TransportError as error:
        done_at = time.monotonic()
        return Exchange(user, request.method, days, request_id, sent_at, done_at, None, repr(error))
    done_at = time.monotonic()
    if request.method == "GET" and response.status_code == 200:
        name, days = days_in_greeting(response)
        assert name == user, f"crossed: {describe(response)}"
    return Exchange(user, request.method, days, request_id, sent_at, done_at, response.status_code)
