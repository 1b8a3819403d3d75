"""`hello-birthday`: the command line and the settings, then serving.

A bad option or setting is exit status 2 with a usage message; a service that cannot start (a
store that cannot open, a port in use, a worker that fails its start) is exit status 3 with one
log line naming the cause.
"""

import argparse
import sys
from collections.abc import Callable

from hello_birthday.ports import API_PORT, METRICS_PORT
from hello_birthday.serving import Listen, run_service
from hello_birthday.settings import Settings, SettingsError

MAX_WORKERS = 64


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from low to high, else a usage error naming the range."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


def add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say where to listen and with how many workers."""
    port = _whole_number(0, 65535)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=API_PORT, help=f"default {API_PORT}")
    parser.add_argument(
        "--workers",
        type=_whole_number(1, MAX_WORKERS),
        default=1,
        help=f"worker processes sharing the ports, 1 to {MAX_WORKERS} (default 1)",
    )
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address of the Prometheus metrics listener (default 127.0.0.1)",
    )
    parser.add_argument(
        "--metrics-port",
        type=port,
        default=METRICS_PORT,
        help=f"port of the metrics listener, 0 for any free one (default {METRICS_PORT})",
    )


def listen_options(args: argparse.Namespace) -> Listen:
    return Listen(args.host, args.port, args.workers, args.metrics_host, args.metrics_port)


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="hello-birthday",
        description="Serve the hello-birthday API. Configuration: HELLO_* environment variables.",
    )
    add_listen_arguments(command)
    return command


def main(argv: list[str] | None = None) -> None:
    command = parser()
    args = command.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        command.error(str(error))
    sys.exit(run_service(settings, listen_options(args)))
