"""Restart durability on the embedded store: acknowledged writes survive a stop and a start."""

import signal
from datetime import date

import httpx
import pytest

from tests.support.contract import born, days_in_greeting, describe, on_one_utc_day, smoke_username
from tests.support.service_process import ServiceStarter

pytestmark = pytest.mark.timeout(90)

USERS = 60


@pytest.mark.parametrize(
    ("workers", "stop"),
    [(1, signal.SIGTERM), (2, signal.SIGTERM), (1, signal.SIGKILL)],
    ids=["1-worker-sigterm", "2-workers-sigterm", "1-worker-sigkill"],
)
def test_acknowledged_writes_survive_a_restart(
    sqlite_store: dict[str, str],
    start_service: ServiceStarter,
    workers: int,
    stop: signal.Signals,
) -> None:
    def check(today: date) -> None:
        birthdays = {smoke_username(): days for days in range(0, 6 * USERS, 6)}
        service = start_service(sqlite_store, workers=workers)
        with httpx.Client(base_url=service.url, timeout=10.0) as client:
            for user, days in birthdays.items():
                body = {"dateOfBirth": born(days, today).isoformat()}
                response = client.put(f"/hello/{user}", json=body)
                assert response.status_code == 204, describe(response)
        service.signal(stop)  # right after the last acknowledgement: nothing had time to settle
        exit_code = service.wait(timeout=15.0)
        assert exit_code == (0 if stop == signal.SIGTERM else -signal.SIGKILL), service.log_tail()

        restarted = start_service(sqlite_store, workers=workers)
        with httpx.Client(base_url=restarted.url, timeout=10.0) as client:
            for user, days in birthdays.items():
                assert days_in_greeting(client.get(f"/hello/{user}"))[1] == days, user

    on_one_utc_day(check)
