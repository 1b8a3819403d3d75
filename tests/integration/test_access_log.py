"""The access log of a real process: one JSON line per request on stdout, no dates of birth."""

import uuid
from datetime import date

import httpx
import pytest

from tests.support.contract import born, on_one_utc_day, smoke_username
from tests.support.service_process import ServiceStarter

pytestmark = pytest.mark.timeout(60)


def test_one_json_line_per_request_without_dates_of_birth(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    service = start_service(sqlite_store)
    name = smoke_username()
    birth = on_one_utc_day(lambda today: born(15, today))
    requests = [
        ("PUT", f"/hello/{name}", {"dateOfBirth": birth.isoformat()}, 204),
        ("GET", f"/hello/{name}", None, 200),
        ("GET", f"/hello/{smoke_username()}", None, 404),
        ("PUT", "/hello/not_a_name", {"dateOfBirth": "1999-09-09"}, 400),
        ("PUT", f"/hello/{name}", {"dateOfBirth": date.max.isoformat()}, 400),
        ("DELETE", f"/hello/{name}", None, 405),
        ("GET", "/healthz", None, 200),
    ]
    sent: dict[str, tuple[str, int]] = {}
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        for method, path, body, status in requests:
            request_id = uuid.uuid4().hex
            response = client.request(method, path, json=body, headers={"X-Request-ID": request_id})
            assert response.status_code == status, response.text
            sent[request_id] = (method, status)
    assert service.stop() == 0

    entries = service.access_log()
    for request_id, (method, status) in sent.items():
        lines = [e for e in entries if request_id in e.values()]
        assert len(lines) == 1, f"{request_id}: {lines}"
        line = lines[0]
        assert method in line.values(), line
        assert status in line.values(), line
        assert any("time" in key for key in line), line
        assert any("duration" in key for key in line), line
    routes = {value for e in entries for value in e.values()}
    assert "/hello/{username}" in routes, "the route template, not the raw path, is logged"
    output = service.output()
    for secret in (birth.isoformat(), "1999-09-09", date.max.isoformat()):
        assert secret not in output, f"a date of birth reached the log: {secret}"
