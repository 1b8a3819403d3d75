"""The benchmark's servers that `hello-birthday` does not start: the bare baseline, and the
service with another HTTP parser. Both are served through `hello_birthday.serving`, as the
command line serves the service, so that a row differs from another only in what it names.

Run as `python -m tests.bench.serve {baseline,service} [--http h11] --port N [--workers W]`
from the repository root.
"""

import argparse
import sys
from collections.abc import Sequence
from typing import get_args

from hello_birthday.cli import add_listen_arguments, listen_options
from hello_birthday.serving import HTTP_PARSER, HttpParser, bind, run_service, serve, uvicorn_config
from hello_birthday.settings import Settings
from tests.bench import baseline_app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.serve", description=__doc__)
    parser.add_argument("app", choices=["baseline", "service"])
    parser.add_argument("--http", choices=get_args(HttpParser), default=HTTP_PARSER)
    add_listen_arguments(parser)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    listen = listen_options(args)
    if args.app == "service":
        return run_service(settings, listen, http=args.http)
    api = bind(listen.host, listen.port, "the baseline")
    config = uvicorn_config(
        settings, baseline_app.create_app, workers=listen.workers, http=args.http
    )
    return serve(config, api)


if __name__ == "__main__":
    sys.exit(main())
