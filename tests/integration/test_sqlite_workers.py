"""Two workers on one SQLite file, each with its read cache: a write through either one is read
at once through the other, whether that worker had the user cached or not."""

from contextlib import ExitStack
from datetime import date

import httpx
import psutil
import pytest

from .contract import born, days_in_greeting, on_one_utc_day, smoke_username
from .service import Service, ServiceStarter

pytestmark = pytest.mark.timeout(120)

#: Connections opened until both workers hold some: the kernel hands each to either worker.
MOST_CONNECTIONS = 64
ROUNDS = 12


def client_port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


def worker_of_each_port(service: Service) -> dict[int, int]:
    """The worker process holding each client port's connection to the service."""
    owners = {}
    for worker in psutil.Process(service.pid).children():
        for connection in worker.net_connections(kind="tcp"):
            if connection.raddr and connection.laddr.port == service.port:
                owners[connection.raddr.port] = worker.pid
    return owners


def one_client_per_worker(service: Service, stack: ExitStack) -> tuple[httpx.Client, httpx.Client]:
    """Kept-alive clients, one connection each, until two are served by different workers."""
    clients: dict[int, httpx.Client] = {}  # the first client of each worker
    for _ in range(MOST_CONNECTIONS):
        client = stack.enter_context(
            httpx.Client(base_url=service.url, timeout=10.0, limits=httpx.Limits(max_connections=1))
        )
        response = client.get("/healthz")
        assert response.status_code == 200
        clients.setdefault(worker_of_each_port(service)[client_port(response)], client)
        if len(clients) == 2:
            first, second = clients.values()
            return first, second
    raise AssertionError(f"{MOST_CONNECTIONS} connections all went to one worker")


def test_a_write_through_one_worker_is_read_at_once_through_the_other(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    service = start_service(sqlite_store, workers=2)
    with ExitStack() as stack:
        first, second = one_client_per_worker(service, stack)

        def rounds(today: date) -> None:
            user = f"/hello/{smoke_username()}"
            for client in (first, second):
                assert client.get(user).status_code == 404  # cached as unknown by both
            for step in range(ROUNDS):
                writer, reader = (first, second) if step % 2 == 0 else (second, first)
                days = step + 1
                response = writer.put(user, json={"dateOfBirth": born(days, today).isoformat()})
                assert response.status_code == 204
                # The reader cached the previous date (or 404) in the round before.
                assert days_in_greeting(reader.get(user))[1] == days, f"round {step}"
                assert days_in_greeting(writer.get(user))[1] == days, f"round {step}"

        on_one_utc_day(rounds)
