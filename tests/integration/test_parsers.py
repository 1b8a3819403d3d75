"""The HTTP parser that serves is the one asked for, through the function the command and the
benchmark's servers share: h11 refuses a request head past MAX_HEAD_BYTES, httptools bounds none.
"""

import os
import socket
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from hello_birthday.serving import MAX_HEAD_BYTES
from tests.bench.servers import listen, running

pytestmark = pytest.mark.timeout(60)


def status_line(port: int, header_bytes: int) -> bytes:
    """The status line of the answer to a GET with one header of header_bytes; b"" if the
    server reset the connection instead (it refused the head while it was still coming in)."""
    head = b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"x" * header_bytes + b"\r\n\r\n"
    with closing(socket.create_connection(("127.0.0.1", port), timeout=10)) as connection:
        try:
            connection.sendall(head)
            return connection.recv(4096).split(b"\r\n")[0]
        except (BrokenPipeError, ConnectionResetError):
            return b""


@pytest.mark.parametrize(
    ("app", "http", "bounded"),
    [("baseline", "httptools", False), ("service", "httptools", False), ("service", "h11", True)],
)
def test_a_bench_server_parses_with_the_parser_it_names(
    tmp_path: Path, app: str, http: str, bounded: bool
) -> None:
    def argv(port: int) -> list[str]:
        serve = [sys.executable, "-m", "tests.bench.serve", app, "--http", http]
        return [*serve, *listen(port, workers=2)]

    env = {**os.environ, "HELLO_STORE": f"sqlite:///{tmp_path / 'bench.db'}"}
    with running(app, argv, env, tmp_path / "server.log") as server:
        assert httpx.get(f"{server.url}/hello/Bench").status_code in {200, 404}
        assert status_line(server.port, MAX_HEAD_BYTES // 2) == b"HTTP/1.1 200 OK"
        # No single read holds a whole 1 MiB head: h11 sees more than its bound incomplete.
        answer = status_line(server.port, 16 * MAX_HEAD_BYTES)
    assert server.child.stop() == 0, server.child.log_tail()
    if bounded:
        assert answer in {b"HTTP/1.1 400 Bad Request", b""}, answer
        assert "Invalid HTTP request received." in server.child.output()
    else:
        assert answer == b"HTTP/1.1 200 OK"
