"""Two workers on one SQLite file, each with its read cache: a write through either one is read
at once through the other, whether that worker had the user cached or not."""

from contextlib import ExitStack
from datetime import date

import pytest

from tests.support.contract import born, days_in_greeting, on_one_utc_day, smoke_username
from tests.support.service_process import ServiceStarter

pytestmark = pytest.mark.timeout(120)

ROUNDS = 12


def test_a_write_through_one_worker_is_read_at_once_through_the_other(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    service = start_service(sqlite_store, workers=2)
    with ExitStack() as stack:
        first, second = service.one_client_per_worker(service.url, "/healthz", stack)

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
