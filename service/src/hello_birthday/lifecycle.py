"""Knowing that the process is stopping, so readiness fails while in-flight requests finish."""

import signal
import threading
from types import FrameType


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
