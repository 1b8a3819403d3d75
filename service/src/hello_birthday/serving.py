"""Serving with uvicorn: its options from the settings, sockets bound once, one or N workers, and
an exit status that an orchestrator can trust.

The command line and the benchmark's servers both serve through here, so that they differ only
in the application they serve (and, for a comparison, in the HTTP parser).
"""

import asyncio
import logging.config
import resource
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Final, Literal

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from hello_birthday import protocols
from hello_birthday.app import ServiceApp, open_store_to_start
from hello_birthday.lifecycle import StartError, cannot_start
from hello_birthday.logs import LOGGER, uvicorn_log_config
from hello_birthday.settings import Settings

HttpParser = Literal["httptools", "h11"]
#: The parser the service runs with. httptools buffers a header of any size, so the load
#: balancer's limits are the bound (docs/architecture.md, "What the service bounds, and what
#: it leaves to the load balancer"); h11 bounds it itself.
HTTP_PARSER: Final[HttpParser] = "httptools"
_PROTOCOLS: Final = {"httptools": protocols.HttpToolsProtocol, "h11": protocols.H11Protocol}
#: h11's bound on a request's head: the load balancer's own limit on all of a request's headers,
#: so that nothing the balancer forwards is refused here.
MAX_HEAD_BYTES: Final = 64 * 1024
#: Open files a worker needs besides its connections: a few dozen of its own (the store's files,
#: the listening sockets, the event loop's own, standard streams), and the DynamoDB client's pool
#: of at most 100 connections.
OTHER_OPEN_FILES: Final = 128


@dataclass(frozen=True)
class Listen:
    """Where the service listens and with how many workers: the command line's options."""

    host: str
    port: int
    workers: int
    metrics_host: str
    metrics_port: int


def uvicorn_config(
    settings: Settings,
    app: Callable[[], ASGIApp],
    *,
    workers: int,
    http: HttpParser = HTTP_PARSER,
) -> uvicorn.Config:
    """uvicorn's options for serving what app() builds (in each worker) with these settings."""
    return uvicorn.Config(
        app,
        factory=True,
        workers=workers,
        loop="uvloop",
        http=_PROTOCOLS[http],
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        lifespan="on",
        access_log=False,  # the app writes its own JSON access log
        log_config=uvicorn_log_config(settings.log_level),
        log_level=settings.log_level,
        server_header=False,
        proxy_headers=False,  # the client address is never used, so X-Forwarded-For is not read
        timeout_graceful_shutdown=settings.shutdown_timeout,
        # Longer than the load balancer's idle timeout (60 s), so the balancer closes first.
        timeout_keep_alive=settings.keepalive_timeout,
        # uvicorn answers 503 while this many connections are open, counting the asking one.
        limit_concurrency=settings.max_connections + 1,
        backlog=settings.backlog,
    )


def bind(host: str, port: int, what: str) -> socket.socket:
    """A TCP socket bound to host:port, for uvicorn's workers to listen on: StartError if taken.

    Spawned workers get a duplicate of it (multiprocessing passes it to the child process).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound = socket.socket(family, socket.SOCK_STREAM)
    try:
        # A restart can bind while the last run's connections linger in TIME_WAIT.
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.bind((host, port))
    except OSError as error:
        bound.close()
        raise StartError(
            f"{what} cannot listen on {host}:{port}: {error.strerror or error}"
        ) from error
    return bound


def serve(config: uvicorn.Config, api: socket.socket) -> int:
    """Serve until stopped; the exit status: STARTUP_FAILURE if a worker could not start.

    uvicorn's supervisor stops every worker when one fails its start, but then exits 0 like a
    stop on request; its processes' exit codes tell the two apart.
    """
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        if config.workers == 1:
            server = uvicorn.Server(config)
            server.run(sockets=[api])
            return 0 if server.started else STARTUP_FAILURE
        supervisor = Multiprocess(config, sockets=[api])
        supervisor.run()
    except KeyboardInterrupt:  # Ctrl+C while starting: a stop on request, as uvicorn.run has it
        return 0
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return STARTUP_FAILURE if failed else 0


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # One worker: uvicorn raises the stop signal again once it has drained; that is a success.
    sys.exit(0)


def run_service(settings: Settings, listen: Listen, http: HttpParser = HTTP_PARSER) -> int:
    """Check what would stop every worker, bind the sockets, serve; the exit status."""
    logging.config.dictConfig(uvicorn_log_config(settings.log_level))
    try:
        _ensure_open_files(settings.max_connections)
        asyncio.run(_check_store(settings))
        api = bind(listen.host, listen.port, "the API")
        metrics = bind(listen.metrics_host, listen.metrics_port, "the metrics")
    except StartError as error:
        LOGGER.error(cannot_start(error))
        return STARTUP_FAILURE
    LOGGER.info(
        "serving on http://%s:%d, metrics on http://%s:%d/metrics, %d worker(s)",
        *api.getsockname()[:2],
        *metrics.getsockname()[:2],
        listen.workers,
    )
    app = ServiceApp(settings, metrics)
    return serve(uvicorn_config(settings, app, workers=listen.workers, http=http), api)


async def _check_store(settings: Settings) -> None:
    """Open and close the store once: a bad path or a damaged file stops the start here, before
    any worker exists, rather than in each of them."""
    await open_store_to_start(settings).close()


def _ensure_open_files(max_connections: int) -> None:
    """Raise the soft limit on open files to what the connection limit needs, if it is lower:
    at the limit, new clients would be dropped without an answer, before the connection limit
    could answer them 503. StartError if even the hard limit is too low."""
    needed = max_connections + OTHER_OPEN_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise StartError(
            f"HELLO_MAX_CONNECTIONS={max_connections} needs {needed} open files, but the "
            f"process may open only {hard} (ulimit -Hn): raise it or lower the setting"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
