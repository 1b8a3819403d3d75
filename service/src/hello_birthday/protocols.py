"""uvicorn's HTTP protocols but for one change: a client that half-closes still gets its answer.

A client may shut down its sending side once its request is out (`nc -N`, some HTTP/1.0
clients). uvicorn's protocols leave `eof_received` to asyncio's default, which closes the
transport, so the request runs (a PUT is written) while its answer has nowhere to go. Here a
connection whose last request arrived whole stays open for writing until that answer is sent,
then closes; one with nothing to answer, or whose request can never be completed, closes at
once, as uvicorn's own protocols do.
"""

from typing import Literal, Protocol

from uvicorn.protocols.http.h11_impl import H11Protocol as _H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol


class _Cycle(Protocol):
    """What both protocols' request-response cycles have in common here."""

    response_complete: bool
    more_body: bool
    keep_alive: bool


def _keep_open_for_answer(cycle: _Cycle | None) -> Literal[True] | None:
    """What eof_received returns: True keeps the transport open for writing."""
    if cycle is None or cycle.response_complete or cycle.more_body:
        return None
    cycle.keep_alive = False  # the client can send no other request: close after this one
    return True


class HttpToolsProtocol(_HttpToolsProtocol):
    def eof_received(self) -> Literal[True] | None:  # type: ignore[override]
        return _keep_open_for_answer(self.cycle)


class H11Protocol(_H11Protocol):
    def eof_received(self) -> Literal[True] | None:  # type: ignore[override]
        return _keep_open_for_answer(self.cycle)
