"""/metrics of a real process: Prometheus text labelled by route template, never by user name.

Not in the black-box suite: the deployed load balancers answer /metrics with a 404 of their own
(the endpoint is for scrapers inside the VPC), so only a process started here can show it.
"""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .contract import born, describe, media_type, on_one_utc_day, smoke_username
from .service import ServiceStarter

pytestmark = pytest.mark.timeout(60)


def test_metrics_are_prometheus_text_without_usernames(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    service = start_service(sqlite_store)
    name, unknown = smoke_username(), smoke_username()
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        birth = on_one_utc_day(lambda today: born(2, today))
        saved = client.put(f"/hello/{name}", json={"dateOfBirth": birth.isoformat()})
        assert saved.status_code == 204, describe(saved)
        assert client.get(f"/hello/{name}").status_code == 200
        assert client.get(f"/hello/{unknown}").status_code == 404
        response = client.get("/metrics")
    assert response.status_code == 200, describe(response)
    assert media_type(response) == "text/plain", describe(response)
    assert name not in response.text
    assert unknown not in response.text
    families = list(text_string_to_metric_families(response.text))
    labels = {value for f in families for s in f.samples for value in s.labels.values()}
    assert "/hello/{username}" in labels, "requests are labelled by route template"
    assert any(family.type == "histogram" for family in families), "a latency histogram"
