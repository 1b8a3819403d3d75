"""`hello-birthday`: read the settings, then serve the app with uvicorn."""

import argparse
import signal
import sys
from types import FrameType

import uvicorn

from hello_birthday.logs import uvicorn_log_config
from hello_birthday.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hello-birthday",
        description="Serve the hello-birthday API. Configuration: HELLO_* environment variables.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes sharing the port (default 1)"
    )
    return parser


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises the stop signal once it has drained; a drained stop is a success.
    sys.exit(0)


#: What uvicorn serves. `nox -s bench` serves its baseline app through main() too, so that the
#: two differ in the application only, never in the server's settings.
APP = "hello_birthday.app:create_app"


def main(argv: list[str] | None = None, *, app: str = APP, factory: bool = True) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        parser.error(str(error))
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app,
        factory=factory,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,  # the app writes its own JSON access log
        log_config=uvicorn_log_config(settings.log_level),
        log_level=settings.log_level,
        server_header=False,
        proxy_headers=False,  # the client address is never used, so X-Forwarded-For is not read
        timeout_graceful_shutdown=settings.shutdown_timeout,
        # Longer than the load balancer's idle timeout (60 s), so the balancer closes first.
        timeout_keep_alive=settings.keepalive_timeout,
    )
