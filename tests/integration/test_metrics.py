"""Prometheus metrics of a real process, on their own loopback port: labelled by route template,
never by user name; the API port does not serve them; each worker answers with its own.

Not in the black-box suite: the metrics port is reachable only from inside the task (the
collector beside the service scrapes it), so only a process started here can show it.
"""

from contextlib import ExitStack

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.contract import (
    assert_problem,
    born,
    describe,
    media_type,
    on_one_utc_day,
    smoke_username,
)
from tests.support.service_process import ServiceProcess, ServiceStarter

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
        assert_problem(client.get("/metrics"), 404)  # not on the API's port
    response = httpx.get(service.metrics_url, timeout=10.0)
    assert response.status_code == 200, describe(response)
    assert media_type(response) == "text/plain", describe(response)
    assert name not in response.text
    assert unknown not in response.text
    families = list(text_string_to_metric_families(response.text))
    labels = {value for f in families for s in f.samples for value in s.labels.values()}
    assert "/hello/{username}" in labels, "requests are labelled by route template"
    assert any(family.type == "histogram" for family in families), "a latency histogram"
    assert 'route="/metrics"' not in response.text, "scrapes are not API requests"
    other = httpx.get(service.metrics_url.replace("/metrics", "/hello/x"), timeout=10.0)
    assert other.status_code == 404


def healthz_answered(scraper: httpx.Client) -> float:
    """The /healthz requests answered by the worker that serves this scraper's connection."""
    text = scraper.get("/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "http_requests"
        for sample in family.samples
        if sample.labels["route"] == "/healthz"
    )


def test_each_worker_answers_scrapes_with_its_own_counters(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    service = start_service(sqlite_store, workers=2)
    metrics_base = service.metrics_url.removesuffix("/metrics")
    with ExitStack() as stack:
        first_api, second_api = service.one_client_per_worker(service.url, "/healthz", stack)
        scrapers = service.one_client_per_worker(metrics_base, "/metrics", stack)
        # Which scraper reaches the worker that serves first_api: the one whose count moves.
        before = [healthz_answered(scraper) for scraper in scrapers]
        assert first_api.get("/healthz").status_code == 200
        moved = [
            healthz_answered(scraper) - was for scraper, was in zip(scrapers, before, strict=True)
        ]
        assert sorted(moved) == [0, 1], f"one worker counted the request, not both: {moved}"
        same, other = scrapers if moved[0] == 1 else (scrapers[1], scrapers[0])
        counts = healthz_answered(same), healthz_answered(other)
        for _ in range(3):
            assert second_api.get("/healthz").status_code == 200
        assert (healthz_answered(same), healthz_answered(other)) == (counts[0], counts[1] + 3)


def test_the_metrics_listener_stops_with_the_service(
    sqlite_store: dict[str, str], start_service: ServiceStarter
) -> None:
    service: ServiceProcess = start_service(sqlite_store)
    assert httpx.get(service.metrics_url, timeout=10.0).status_code == 200
    assert service.stop() == 0, service.log_tail()
    with pytest.raises(httpx.ConnectError):
        httpx.get(service.metrics_url, timeout=10.0)
