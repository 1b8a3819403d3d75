"""The service as `hello-birthday` serves it, less the starting process's own check of the store.

So a store that cannot open fails in the workers instead, as when its file is damaged between
that check and a worker's start. Run from the repository root:
`python -m tests.integration.unchecked_start --port N [--metrics-port M] [--workers W]`.
"""

import argparse
import sys

from hello_birthday.app import ServiceApp
from hello_birthday.cli import add_listen_arguments, listen_options
from hello_birthday.serving import bind, serve, uvicorn_config
from hello_birthday.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_listen_arguments(parser)
    listen = listen_options(parser.parse_args())
    settings = Settings.from_env()
    api = bind(listen.host, listen.port, "the API")
    metrics = bind(listen.metrics_host, listen.metrics_port, "the metrics")
    app = ServiceApp(settings, metrics)
    return serve(uvicorn_config(settings, app, workers=listen.workers), api)


if __name__ == "__main__":
    sys.exit(main())
