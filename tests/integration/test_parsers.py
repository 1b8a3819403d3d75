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
from tests.support.processes import ChildProcess, free_port

pytestmark = pytest.mark.timeout(60)

READY_SECONDS = 30.0


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
    port = free_port()
    argv = [
        *(sys.executable, "-m", "tests.bench.serve", app, "--http", http),
        *("--port", str(port), "--metrics-port", "0", "--workers", "2"),
    ]
    env = {**os.environ, "HELLO_STORE": f"sqlite:///{tmp_path / 'bench.db'}"}
    child = ChildProcess(argv, env, tmp_path / "server.log")
    try:
        child.start_serving(f"http://127.0.0.1:{port}/readyz", timeout=READY_SECONDS, status=200)
        assert httpx.get(f"http://127.0.0.1:{port}/hello/Bench").status_code in {200, 404}
        assert status_line(port, MAX_HEAD_BYTES // 2) == b"HTTP/1.1 200 OK"
        # No single read holds a whole 1 MiB head: h11 sees more than its bound incomplete.
        answer = status_line(port, 16 * MAX_HEAD_BYTES)
    finally:
        assert child.stop() == 0, child.log_tail()
    if bounded:
        assert answer in {b"HTTP/1.1 400 Bad Request", b""}, answer
        assert "Invalid HTTP request received." in child.output()
    else:
        assert answer == b"HTTP/1.1 200 OK"
