"""A request's body as JSON, read up to MAX_BODY_BYTES; a larger one gets a 413 the client reads.

A server that answers early and then closes with unread data in its socket makes the kernel
reset the connection, and a client still sending (urllib sends the whole body before reading)
loses the answer. So the 413 goes out at once, the rest of the body is read and thrown away,
within a bound in bytes and in time so that a client cannot hold the connection, and only then
is the connection closed.
"""

import asyncio
import json
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from hello_birthday.lifecycle import ShutdownSignal
from hello_birthday.problems import PROBLEM_JSON, ProblemError, invalid_input, shutting_down

#: The largest body the service reads: a date of birth takes some 30 bytes.
MAX_BODY_BYTES: Final = 4096
#: What is read and thrown away after a 413, at most: a client sending more, or sending it more
#: slowly, is disconnected (a reset) once one of the two runs out.
DRAIN_BYTES: Final = 4 * 1024 * 1024
DRAIN_SECONDS: Final = 5.0


class BodyTooLargeError(ProblemError):
    """A 413; with body_pending, the rest of the body is discarded before the connection closes."""

    def __init__(self, *, body_pending: bool) -> None:
        detail = f"The body must be at most {MAX_BODY_BYTES} bytes."
        # Closed afterwards: the connection cannot be reused when the drain gives up midway.
        headers = {"Connection": "close"} if body_pending else None
        super().__init__(413, "body-too-large", detail, headers)
        self.body_pending = body_pending

    def response(self) -> Response:
        if self.body_pending:
            return _AnswerThenDrain(
                self.content(), self.status, self.headers, media_type=PROBLEM_JSON
            )
        return super().response()


class _AnswerThenDrain(JSONResponse):
    """Sends the whole answer, discards the rest of the request's body, then ends the response
    (the server closes the connection only then)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        await _discard_body(receive)
        await send({"type": "http.response.body", "body": b""})


async def _discard_body(receive: Receive) -> None:
    discarded = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while discarded <= DRAIN_BYTES:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                discarded += len(message.get("body", b""))
    except TimeoutError:
        return
    except asyncio.CancelledError:
        # The shutdown's grace period ended first (see _next_message): the answer is out, and
        # ending it closes the connection, where an error would have uvicorn log a traceback.
        _carry_on()


async def read_json(request: Request, shutdown: ShutdownSignal) -> object:
    """The body as JSON whatever its Content-Type, refused early when it is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLargeError(body_pending=True)
    body = bytearray()
    more_body = True
    while more_body:
        message = await _next_message(request, shutdown)
        if message["type"] == "http.disconnect":
            # The client's fault, not ours: a 4xx in the metrics and the log, not a 500.
            detail = "The connection closed before the body ended."
            raise invalid_input("invalid-body", detail)
        body += message.get("body", b"")
        more_body = message.get("more_body", False)
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLargeError(body_pending=more_body)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise invalid_input(
            "invalid-body", 'The body must be JSON such as {"dateOfBirth": "2000-01-31"}.'
        ) from None


async def _next_message(request: Request, shutdown: ShutdownSignal) -> Message:
    try:
        return await request.receive()
    except asyncio.CancelledError:
        # uvicorn cancels the requests still running when the shutdown's grace period is over:
        # here, one whose body stalled. Answer it as stopped rather than let uvicorn log a
        # traceback and send a plain-text 500.
        if not shutdown.is_set():
            raise
        _carry_on()
        raise shutting_down(
            "The process stopped before the body arrived; send the request again."
        ) from None


def _carry_on() -> None:
    """Let the request's task finish its answer despite the cancellation it received."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
