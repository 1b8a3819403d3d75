"""HTTP/1.1 driven by hand over a real socket, so a test decides when each byte goes out."""

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

#: A bound on every read of the hand-driven connections: a hang fails, it does not block.
IO_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class RawConnection:
    """One HTTP/1.1 connection driven by hand."""

    def __init__(self, url: str, timeout: float = IO_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        assert parts.hostname, url
        assert parts.port, url
        self.host = f"{parts.hostname}:{parts.port}"
        self._socket = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self._buffer = b""

    def close(self) -> None:
        self._socket.close()

    def send(self, data: bytes) -> None:
        self._socket.sendall(data)

    def finish_sending(self) -> None:
        """Half-close: the server reads end-of-file, the connection stays open for its answer."""
        self._socket.shutdown(socket.SHUT_WR)

    def send_and_finish(self, data: bytes) -> None:
        """Send data and half-close in one TCP segment: corked, the data waits for the FIN, so
        the server reads both together, however long this process takes between the two."""
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        self.send(data)
        self.finish_sending()

    def request(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        """Send a request head (the body, if any, is the caller's to send)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))

    def response(self) -> RawResponse | None:
        """The next response (interim ones included); None if the server closed the connection
        (or reset it) without sending one."""
        head = self._read_until(b"\r\n\r\n")
        if head is None:
            return None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines)
        }
        status = int(status_line.split(" ")[1])
        length = 0 if status < 200 else int(headers.get("content-length", "0"))
        while len(self._buffer) < length:
            chunk = self._recv()
            assert chunk, f"closed in the middle of a {status} response's body"
            self._buffer += chunk
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return RawResponse(status, headers, body)

    def closed_by_server(self) -> bool:
        """Wait (up to the socket's timeout) for the server to close; False if it sent data."""
        return not self._buffer and self._recv() == b""

    def _read_until(self, end: bytes) -> bytes | None:
        while end not in self._buffer:
            chunk = self._recv()
            if not chunk:
                assert not self._buffer, f"closed in the middle of a response: {self._buffer!r}"
                return None
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(end)
        return head

    def _recv(self) -> bytes:
        try:
            return self._socket.recv(65536)
        except ConnectionResetError:
            return b""
