"""Pure ASGI middleware: request id, access log line and request metrics for every request."""

import random
import re
import time
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hello_birthday.logs import AccessLog
from hello_birthday.metrics import Metrics

REQUEST_ID_HEADER: Final = b"x-request-id"
#: A caller's id is echoed only when it is short and printable, so it cannot forge log lines.
REQUEST_ID_PATTERN: Final = "[A-Za-z0-9._:/+=-]{1,128}"
_SAFE_REQUEST_ID: Final = re.compile(REQUEST_ID_PATTERN.encode("ascii"))
#: The route label of requests that matched no route: raw paths would explode the label set.
UNMATCHED_ROUTE: Final = "<unmatched>"


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _SAFE_REQUEST_ID.fullmatch(value):
            decoded: str = value.decode("ascii")
            return decoded
    # Unique, not secret: the process's PRNG avoids a getrandom(2) call on every request.
    return random.randbytes(16).hex()


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: AccessLog | None) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = request_id_of(scope)
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500  # what the client gets if the app fails before it starts a response

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            seconds = time.perf_counter() - start
            # The router leaves the matched route in the scope: label by its template.
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            method = scope["method"]
            self.metrics.observe_request(route, method, status, seconds)
            if self.access_log is not None:
                self.access_log.write(request_id, method, route, status, seconds)
