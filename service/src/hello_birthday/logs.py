"""JSON log lines on stdout: one per request (the access log) and one per application event."""

import asyncio
import io
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, Final, TextIO

_MILLISECONDS: Final = [f"{millisecond:03d}" for millisecond in range(1000)]


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


class JSONFormatter(logging.Formatter):
    """Formats application and server log records as single JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Fields of the event's own, given as logger.error(..., extra={"fields": {...}}).
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class AccessLog:
    """Writes one line per request. It holds no body, so no date of birth can reach the log."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self._stream = stream
        if isinstance(stream, io.TextIOWrapper):
            # This class flushes once per event-loop pass; PYTHONUNBUFFERED (common in container
            # images) would otherwise turn every line into its own write(2).
            stream.reconfigure(write_through=False, line_buffering=False)
        self._second = -1
        self._second_text = ""
        self._flush_scheduled = False

    def _now(self) -> str:
        # Formatting a timestamp costs more than the rest of the line: reuse it within a second,
        # and look the milliseconds up rather than format them.
        second, millisecond = divmod(time.time_ns() // 1_000_000, 1000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{_MILLISECONDS[millisecond]}+00:00"

    def write(self, request_id: str, method: str, route: str, status: int, seconds: float) -> None:
        # Built by hand because it is on every request's path; no field can need JSON escaping:
        # the request id is checked against a safe alphabet, the method is an HTTP token and the
        # route is one of our own templates.
        self._stream.write(
            f'{{"time": "{self._now()}", "level": "info", "logger": "access", '
            f'"request_id": "{request_id}", "method": "{method}", "route": "{route}", '
            f'"status": {status}, "duration_ms": {seconds * 1000:.3f}}}\n'
        )
        # One write(2) per pass of the event loop, not per line: lines still leave promptly.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        self._stream.flush()


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """A logging.config dictionary that turns uvicorn's and our own records into JSON lines."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    # aiodynamo: the DynamoDB store's client, which logs failed credential lookups.
    loggers = ("uvicorn", "uvicorn.error", "hello_birthday", "aiodynamo")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSONFormatter}},
        "handlers": {"stdout": handler},
        "loggers": {
            name: {"handlers": ["stdout"], "level": level.upper(), "propagate": False}
            for name in loggers
        },
    }


LOGGER: Final = logging.getLogger("hello_birthday")
