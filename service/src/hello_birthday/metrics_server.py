"""Prometheus metrics on a port of their own, served from the worker's own event loop.

A second uvicorn server shares the event loop of the one serving the API: the request
histograms are plain numbers updated on that loop's thread (metrics.py), so they must be
rendered there too, which rules out prometheus_client's thread-based server. Reusing uvicorn
costs no import and no memory that the worker does not already pay (aiohttp's server would add
its own to every SQLite worker's memory and start). It parses with h11, whose header size is
bounded, because no load balancer stands in front of this port.

The listening socket is bound once, by the process that starts the workers, and every worker
accepts on it: each scrape is answered by one worker, with that worker's own counters.
"""

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from hello_birthday.metrics import Metrics

#: Seconds an open scrape may take to finish once the worker stops.
STOP_GRACE_SECONDS = 1


def metrics_app(metrics: Metrics) -> Router:
    """GET /metrics in Prometheus' text format; any other path is a 404."""

    async def render(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Router([Route("/metrics", render, methods=["GET"])])


class _SharedLoopServer(uvicorn.Server):
    """A uvicorn server inside another one's event loop: that one owns the process's signals."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class MetricsListener:
    """Serves metrics on an already bound socket from start() until stop()."""

    def __init__(self, metrics: Metrics, listening: socket.socket) -> None:
        self._socket = listening
        config = uvicorn.Config(
            metrics_app(metrics),
            http="h11",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=STOP_GRACE_SECONDS,
        )
        self._server = _SharedLoopServer(config)
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._serving = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        listening = asyncio.create_task(self._server.listening.wait())
        await asyncio.wait({self._serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        if self._serving.done():  # it ended before listening: its error, or why it stopped
            listening.cancel()
            self._serving.result()
            raise RuntimeError("the metrics server stopped as it started")

    async def stop(self) -> None:
        if self._serving is not None:
            self._server.should_exit = True
            await self._serving
