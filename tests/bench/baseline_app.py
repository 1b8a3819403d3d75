"""The baseline of `nox -s bench`: bare Starlette answering a constant JSON body.

It is the framework's own ceiling on this machine; the service's numbers are read against it.
It answers on the same paths as the service so that the same wrk script drives both.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

GREETING = {"message": "Hello, Bench! Your birthday is in 42 days"}


async def hello(_request: Request) -> JSONResponse:
    return JSONResponse(GREETING)


async def ready(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


app = Starlette(routes=[Route("/hello/{username}", hello), Route("/readyz", ready)])


def create_app() -> Starlette:
    """What the benchmark's server loads in each worker."""
    return app
