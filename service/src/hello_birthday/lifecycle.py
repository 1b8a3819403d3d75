"""A worker's start and stop (the ASGI lifespan protocol), and knowing that the process is
stopping, so readiness fails while in-flight requests finish."""

import signal
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from types import FrameType

from starlette.types import ASGIApp, Receive, Scope, Send


class StartError(Exception):
    """The service cannot start; the message names the cause in one line."""


def cannot_start(error: Exception) -> str:
    """The one line that reports a failed start: our own errors' words, or any other's repr."""
    return f"cannot start: {error if isinstance(error, StartError) else repr(error)}"


class Lifespan:
    """Pure ASGI middleware that runs a context from the worker's start to its stop.

    A failed start is reported as one line naming its cause, which uvicorn logs before it exits
    with status 3; Starlette's own lifespan handling would report a whole traceback instead.
    """

    def __init__(
        self, app: ASGIApp, context: Callable[[], AbstractAsyncContextManager[None]]
    ) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        await receive()  # lifespan.startup
        async with AsyncExitStack() as running:
            try:
                await running.enter_async_context(self.context())
            except Exception as error:
                await send({"type": "lifespan.startup.failed", "message": cannot_start(error)})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})


class ShutdownSignal:
    """Set once SIGTERM or SIGINT arrives; uvicorn then drains connections and exits."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    def listen(self) -> None:
        """Chain onto uvicorn's handlers for the stop signals (only the main thread can)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)

            def handler(
                received: int, frame: FrameType | None, previous: object = previous
            ) -> None:
                self.set()
                if callable(previous):
                    previous(received, frame)
                elif previous == signal.SIG_DFL:
                    # No server handler to chain to: stop the way the default would.
                    signal.signal(received, signal.SIG_DFL)
                    signal.raise_signal(received)

            signal.signal(signum, handler)
