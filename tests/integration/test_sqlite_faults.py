"""The SQLite store's files go wrong under a running service: the database file is deleted or
replaced, the file is read-only, the disk is full.

Each time writes must be refused (503), readiness must fail, an error line must say why, and
no write may be acknowledged that a restart would not find. Once the cause is gone, readiness
and writes recover without a restart, except for a file deleted or replaced under the service,
which only a restart can take up.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from hello_birthday.logs import LOGGER
from tests.support.contract import (
    assert_problem,
    assert_retry_after,
    born,
    describe,
    smoke_username,
    utc_today,
)
from tests.support.processes import wait_until
from tests.support.service_process import ServiceProcess, ServiceStarter, error_messages
from tests.support.sqlite_files import replace_with_a_copy

from .filesystems import fill, read_only, small_filesystem

pytestmark = pytest.mark.timeout(90)

#: Readiness and writes come back by themselves once the cause is gone, within this.
RECOVERY_SECONDS = 15.0
#: Enough for the store's files and a few writes; the filler takes the rest.
SMALL_FILESYSTEM_KIB = 2048


def sqlite_env(path: Path) -> dict[str, str]:
    return {"HELLO_STORE": f"sqlite:///{path}"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as client:
        yield client


def put(client: httpx.Client, service: ServiceProcess, user: str) -> httpx.Response:
    body = {"dateOfBirth": born(10, utc_today()).isoformat()}
    return client.put(f"{service.url}/hello/{user}", json=body)


def assert_refused(response: httpx.Response) -> None:
    assert_problem(response, 503)
    assert_retry_after(response)


def error_lines(service: ServiceProcess) -> list[str]:
    """The messages of the service's own error lines (store failures among them)."""
    return error_messages(service.output(), logger=LOGGER.name)


def assert_stored(client: httpx.Client, service: ServiceProcess, *users: str) -> None:
    for user in users:
        response = client.get(f"{service.url}/hello/{user}")
        assert response.status_code == 200, describe(response)


def recovered(
    client: httpx.Client,
    service: ServiceProcess,
    start_service: ServiceStarter,
    *,
    path: Path,
    users: tuple[str, str],
    cause_gone: str,
) -> ServiceProcess:
    """Ready again by itself, and the write refused before (of users' second) goes through;
    after a restart on the same file both users are there. The restarted service."""
    before, during = users

    def ready() -> bool:
        return client.get(f"{service.url}/readyz").status_code == 200

    wait_until(ready, timeout=RECOVERY_SECONDS, what=f"/readyz 200 once {cause_gone}")
    assert put(client, service, during).status_code == 204
    assert service.stop() == 0
    restarted = start_service(sqlite_env(path))
    assert_stored(client, restarted, before, during)
    return restarted


@pytest.mark.parametrize("change", ["deleted", "replaced"])
def test_a_database_file_deleted_or_replaced_refuses_writes_until_a_restart(
    tmp_path: Path, start_service: ServiceStarter, client: httpx.Client, change: str
) -> None:
    path = tmp_path / "store" / "hello-birthday.db"
    path.parent.mkdir()
    service = start_service(sqlite_env(path))
    before = smoke_username()
    assert put(client, service, before).status_code == 204

    if change == "deleted":
        path.unlink()
    else:
        replace_with_a_copy(path)  # holds `before`
    after = [smoke_username() for _ in range(3)]
    for user in after:
        assert_refused(put(client, service, user))  # the file at the path would never hold it
    assert_problem(client.get(f"{service.url}/readyz"), 503)
    assert service.stop() == 0
    assert any(str(path) in message for message in error_lines(service)), service.log_tail()

    # SQLite leaves the log of a database that moved; the next start would replay it into the
    # file at the path, which is not that database.
    assert not Path(f"{path}-wal").exists(), "the old database's log is left beside the file"
    with closing(sqlite3.connect(path)) as database:  # the file at the path, undamaged
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restarted = start_service(sqlite_env(path))
    if change == "replaced":
        assert_stored(client, restarted, before)
    for user in after:
        assert client.get(f"{restarted.url}/hello/{user}").status_code == 404
    assert put(client, restarted, after[0]).status_code == 204, "writes work after the restart"


def test_a_read_only_database_file_is_not_ready_until_it_can_be_written(
    tmp_path: Path, start_service: ServiceStarter, client: httpx.Client
) -> None:
    path = tmp_path / "hello-birthday.db"
    first = start_service(sqlite_env(path))
    before, during = smoke_username(), smoke_username()
    assert put(client, first, before).status_code == 204
    assert first.stop() == 0

    with read_only(path):
        service = start_service(sqlite_env(path), ready=False)
        # Not opened read-only, which SQLite would not undo: no call works until it can write.
        assert_refused(client.get(f"{service.url}/hello/{before}"))
        assert_refused(put(client, service, during))
        assert_problem(client.get(f"{service.url}/readyz"), 503)
        lines = error_lines(service)
        assert any(f"{path} is read-only" in line for line in lines), service.log_tail()

    users = (before, during)
    recovered(client, service, start_service, path=path, users=users, cause_gone="it is writable")


def test_a_full_disk_is_not_ready_until_space_is_freed(
    tmp_path: Path, start_service: ServiceStarter, client: httpx.Client
) -> None:
    with small_filesystem(tmp_path / "small", SMALL_FILESYSTEM_KIB) as directory:
        path = directory / "hello-birthday.db"
        service = start_service(sqlite_env(path))
        before, during = smoke_username(), smoke_username()
        assert put(client, service, before).status_code == 204

        # Once a checkpoint has copied the log into the database and truncated it, every write
        # appends to an empty log, which needs new space; nothing the service holds can give
        # space back (a log truncated after the disk filled would).
        wal = Path(f"{path}-wal")
        wait_until(lambda: wal.stat().st_size == 0, timeout=RECOVERY_SECONDS, what="empty WAL")
        fill(directory)
        refused = 3
        for _ in range(refused):
            assert_refused(put(client, service, during))
        assert_problem(client.get(f"{service.url}/readyz"), 503)
        lines = [message for message in error_lines(service) if "full" in message]
        assert 1 <= len(lines) < refused, service.log_tail()  # logged, but not once per failure

        (directory / "filler").unlink()
        users = (before, during)
        restarted = recovered(
            client, service, start_service, path=path, users=users, cause_gone="space is freed"
        )
        assert restarted.stop() == 0  # before the filesystem is unmounted
