"""Routes and the application factory: settings in, ASGI app out."""

import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import TextIO

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hello_birthday import birthdays
from hello_birthday.failure_log import FailureLog
from hello_birthday.lifecycle import Lifespan, ShutdownSignal, StartError
from hello_birthday.logs import LOGGER, AccessLog
from hello_birthday.metrics import MeteredStore, Metrics
from hello_birthday.metrics_server import MetricsListener
from hello_birthday.observability import ObservabilityMiddleware
from hello_birthday.openapi import DOCUMENT
from hello_birthday.problems import (
    ProblemError,
    handle_http_exception,
    handle_problem,
    handle_unexpected,
    invalid_input,
    invalid_stored_date,
    shutting_down,
    store_unavailable,
)
from hello_birthday.request_body import read_json
from hello_birthday.settings import Settings
from hello_birthday.store import (
    InvalidStoredDataError,
    Store,
    StoreUnavailableError,
    open_store,
)
from hello_birthday.today import Clock, Today, utc_now


def _json(field: str, value: str) -> Response:
    """A JSON object of one string field (``field`` is ours: it needs no escaping).

    Built by hand because every GET answers with one: json's C string escaper is all it takes,
    where Starlette's JSONResponse runs a whole encoder, which it builds anew on every call.
    """
    return Response(
        f'{{"{field}":{encode_basestring(value)}}}'.encode(), media_type="application/json"
    )


Handler = Callable[[Request], Awaitable[Response]]


class MethodDispatch:
    """One ASGI app serving a path with a handler per method.

    Lighter than HTTPEndpoint (no instance per request), and its 405 lists the allowed methods
    in a stable order, where a multi-method Route lists them in set order.
    """

    def __init__(self, **handlers: Handler) -> None:
        self._handlers = handlers
        self._allow = ", ".join(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self._handlers.get(scope["method"])
        if handler is None:
            raise HTTPException(405, headers={"Allow": self._allow})
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)


def _read_only(handler: Handler) -> MethodDispatch:
    return MethodDispatch(GET=handler, HEAD=handler)


class Endpoints:
    """The endpoints and what they share: the store (opened at startup), the clock, the settings,
    the metrics, and the socket the metrics are served on, if any.

    build_app serves them; whoever builds the app so keeps this object, through which a test
    reaches the store, the metrics and the shutdown signal behind the app.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock = utc_now,
        metrics_socket: socket.socket | None = None,
    ) -> None:
        self.settings = settings
        self.today = Today(clock, settings.timezone)
        # One registry per application, so that a process (a test) can hold several.
        self.metrics = Metrics()
        self.shutdown = ShutdownSignal()
        self._metrics_socket = metrics_socket
        self._store: Store | None = None
        # Each failure that becomes a 503 or a data error, without a line per request.
        self.store_failures = FailureLog("store unavailable")
        self.data_errors = FailureLog("stored data invalid")

    def routes(self) -> list[Route]:
        return [
            Route(
                "/hello/{username}",
                MethodDispatch(
                    GET=self.get_greeting, HEAD=self.get_greeting, PUT=self.put_date_of_birth
                ),
            ),
            Route("/healthz", _read_only(self.healthz)),
            Route("/readyz", _read_only(self.readyz)),
            Route("/openapi.json", _read_only(self.openapi)),
        ]

    @property
    def store(self) -> Store:
        if self._store is None:
            raise StoreUnavailableError("the store is not open")
        return self._store

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """The store and the metrics listener, from the worker's start to its stop."""
        self.shutdown.listen()
        async with AsyncExitStack() as running:
            opened = open_store_to_start(self.settings)
            running.push_async_callback(opened.close)
            LOGGER.info("store opened: %s", self.settings.store_url.partition("://")[0])
            if self._metrics_socket is not None:
                metrics = MetricsListener(self.metrics, self._metrics_socket)
                await metrics.start()
                running.push_async_callback(metrics.stop)
            self._store = MeteredStore(opened, self.metrics)
            try:
                yield
            finally:
                self._store = None
                # The counts not yet logged, before anything else can fail.
                self.store_failures.flush()
                self.data_errors.flush()

    async def get_greeting(self, request: Request) -> Response:
        username = _username(request)
        try:
            born = await self.store.get(username)
        except StoreUnavailableError as error:
            raise self._unavailable("get", error) from None
        except InvalidStoredDataError as error:
            self.data_errors.record(str(error))
            raise invalid_stored_date(username) from None
        if born is None:
            raise ProblemError(
                404, "user-not-found", f"No date of birth is saved for {username}; PUT one first."
            )
        days = birthdays.days_until_birthday(born, self.today())
        return _json("message", birthdays.greeting(username, days))

    async def put_date_of_birth(self, request: Request) -> Response:
        username = _username(request)
        body = await read_json(request, self.shutdown)
        if not isinstance(body, dict) or "dateOfBirth" not in body:
            raise invalid_input(
                "invalid-body", 'The body must be a JSON object with a "dateOfBirth" field.'
            )
        try:
            born = birthdays.parse_date_of_birth(body["dateOfBirth"], self.today())
        except birthdays.InvalidDateOfBirthError as error:
            raise invalid_input("invalid-date-of-birth", str(error)) from None
        try:
            await self.store.put(username, born)
        except StoreUnavailableError as error:
            raise self._unavailable("put", error) from None
        return Response(status_code=204)

    def _unavailable(self, operation: str, error: StoreUnavailableError) -> ProblemError:
        self.store_failures.record(f"{operation}: {error}")
        return store_unavailable()

    async def healthz(self, _: Request) -> Response:
        return _json("status", "ok")

    async def readyz(self, _: Request) -> Response:
        if self.shutdown.is_set():
            raise shutting_down("The process is shutting down.")
        try:
            await self.store.check()
        except StoreUnavailableError as error:
            raise self._unavailable("check", error) from None
        return _json("status", "ready")

    async def openapi(self, _: Request) -> Response:
        return JSONResponse(DOCUMENT)


def open_store_to_start(settings: Settings) -> Store:
    """The store the settings name; one that cannot be opened stops the start (StartError)."""
    try:
        return open_store(settings)
    except StoreUnavailableError as error:
        raise StartError(str(error)) from error


def _username(request: Request) -> str:
    try:
        return birthdays.normalise_username(request.path_params["username"])
    except birthdays.InvalidUsernameError as error:
        raise invalid_input("invalid-username", str(error)) from None


def build_app(endpoints: Endpoints, log_stream: TextIO = sys.stdout) -> ASGIApp:
    """The ASGI application that serves the endpoints, its access log written to log_stream."""
    app = Starlette(
        routes=endpoints.routes(),
        middleware=[Middleware(Lifespan, context=endpoints.lifespan)],
        exception_handlers={
            ProblemError: handle_problem,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
    # /hello/Alice/ is a 404 like any unknown path, not a redirect built from the Host header.
    app.router.redirect_slashes = False
    # Outside Starlette's own error handling, so even a 500 carries a request id and is counted.
    access_log = AccessLog(log_stream) if endpoints.settings.access_log else None
    return ObservabilityMiddleware(app, endpoints.metrics, access_log)


def create_app(
    settings: Settings,
    clock: Clock = utc_now,
    log_stream: TextIO = sys.stdout,
    metrics_socket: socket.socket | None = None,
) -> ASGIApp:
    """Build the application. With a metrics socket (bound, not yet listening), the app serves
    its Prometheus metrics on it from its start to its stop."""
    endpoints = Endpoints(settings, clock, metrics_socket)
    return build_app(endpoints, log_stream)


@dataclass(frozen=True)
class ServiceApp:
    """What uvicorn loads in each worker: the app with the settings and metrics socket the
    starting process checked and bound (pickled to spawned workers, the socket duplicated)."""

    settings: Settings
    metrics_socket: socket.socket

    def __call__(self) -> ASGIApp:
        return create_app(self.settings, metrics_socket=self.metrics_socket)
