"""Servers the gates fail against: one that answers 404 to everything, one that never answers."""

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class NotFoundHandler(http.server.BaseHTTPRequestHandler):
    """Every request is a 404 with an empty body: up, but not the service."""

    def _not_found(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _not_found  # noqa: N815 - http.server dispatches to do_<METHOD>

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the smoke suite's own report says what failed."""


@contextmanager
def not_found_server() -> Iterator[str]:
    """An HTTP server on a free loopback port that answers 404 to everything; its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFoundHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
