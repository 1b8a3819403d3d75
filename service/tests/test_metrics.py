"""The request and store histograms, read back through prometheus_client's own text parser."""

import asyncio
from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hello_birthday.metrics import LATENCY_BUCKETS, MeteredStore, Metrics
from hello_birthday.store import StoreUnavailableError

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def exposed(metrics: Metrics) -> Samples:
    text = metrics.render().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def test_request_histogram_buckets_are_cumulative_and_bounds_inclusive() -> None:
    metrics = Metrics()
    for seconds in (0.005, 0.0051, 7.0):  # on a bound, just above it, beyond the last bound
        metrics.observe_request("/hello/{username}", "GET", 200, seconds)
    metrics.observe_request("/hello/{username}", "PUT", 204, 0.0001)
    samples = exposed(metrics)
    get = {"route": "/hello/{username}", "method": "GET", "status": "200"}

    buckets = {
        dict(sample_labels)["le"]: value
        for (name, sample_labels), value in samples.items()
        if name == "http_request_duration_seconds_bucket" and labels(**get) < sample_labels
    }
    assert len(buckets) == len(LATENCY_BUCKETS) + 1
    expected = {"0.0025": 0, "0.005": 1, "0.01": 2, "5.0": 2, "+Inf": 3}
    assert {bound: buckets[bound] for bound in expected} == expected
    assert samples["http_request_duration_seconds_count", labels(**get)] == 3
    assert samples["http_request_duration_seconds_sum", labels(**get)] == pytest.approx(7.0101)
    assert samples["http_requests_total", labels(**get)] == 3
    put = labels(route="/hello/{username}", method="PUT", status="204")
    assert samples["http_requests_total", put] == 1


def test_store_calls_have_a_histogram_per_operation() -> None:
    metrics = Metrics()
    metrics.store_seconds.observe(("get",), 0.002)
    metrics.store_seconds.observe(("get",), 0.02)
    metrics.store_seconds.observe(("put",), 0.2)
    samples = exposed(metrics)
    assert samples["store_call_duration_seconds_count", labels(operation="get")] == 2
    assert samples["store_call_duration_seconds_bucket", labels(operation="get", le="0.01")] == 1
    assert samples["store_call_duration_seconds_count", labels(operation="put")] == 1


class ReadsFail:
    """A store whose reads fail and whose writes succeed."""

    async def get(self, username: str) -> date | None:
        raise StoreUnavailableError("down")

    async def put(self, username: str, born: date) -> None:
        return None

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None


def test_metered_store_times_every_call_and_counts_failures() -> None:
    metrics = Metrics()
    store = MeteredStore(ReadsFail(), metrics)
    operations = ("get", "put", "check")
    before = exposed(metrics)
    # Every error series is there at 0 before any failure, so an alert's rate() has a series.
    assert [before["store_errors_total", labels(operation=name)] for name in operations] == [0] * 3

    with pytest.raises(StoreUnavailableError):
        asyncio.run(store.get("Kim"))
    asyncio.run(store.put("Kim", date(1990, 1, 31)))
    after = exposed(metrics)

    assert [after["store_errors_total", labels(operation=name)] for name in operations] == [1, 0, 0]
    # The failed call is timed too.
    assert after["store_call_duration_seconds_count", labels(operation="get")] == 1
    assert after["store_call_duration_seconds_count", labels(operation="put")] == 1
