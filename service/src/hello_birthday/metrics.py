"""Prometheus metrics: requests by route template (never by raw username), and store calls."""

import time
from bisect import bisect_left
from collections.abc import Awaitable, Iterator
from datetime import date
from typing import Final, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from hello_birthday.store import Store, StoreUnavailableError

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BUCKET_LABELS = [*map(floatToGoString, LATENCY_BUCKETS), "+Inf"]
# The store histogram's label sets, built once rather than on every call.
_GET: Final = ("get",)
_PUT: Final = ("put",)
_CHECK: Final = ("check",)
_Result = TypeVar("_Result")


class _Series:
    """One label set's observations: a count per bucket (not yet cumulative) and their sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * len(_BUCKET_LABELS)
        self.total = 0.0


class LatencyHistogram:
    """A histogram of durations kept as plain numbers, for prometheus_client to expose.

    prometheus_client's Histogram takes a lock for each of its two increments per observation,
    on every request's path. Every observation here is made on the event loop's thread, and
    /metrics is rendered there too, so no lock is needed.
    """

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self._series: dict[tuple[str, ...], _Series] = {}

    def observe(self, labels: tuple[str, ...], seconds: float) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _Series()
        # The first bound >= seconds: Prometheus buckets count observations "less or equal".
        series.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series.total += seconds

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, series in self._series.items():
            cumulative = 0
            buckets = []
            for label, count in zip(_BUCKET_LABELS, series.counts, strict=True):
                cumulative += count
                buckets.append((label, float(cumulative)))
            family.add_metric(labels, buckets, series.total)
        return family

    def counts(self, name: str, documentation: str) -> CounterMetricFamily:
        """The number of observations per label set, as a counter of its own."""
        family = CounterMetricFamily(name, documentation, labels=self.labels)
        for labels, series in self._series.items():
            family.add_metric(labels, sum(series.counts))
        return family


class Metrics(Collector):
    """One registry per application, so tests can build several apps in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._requests = LatencyHistogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ("route", "method", "status"),
        )
        self.store_seconds = LatencyHistogram(
            "store_call_duration_seconds",
            "Time of one call to the date-of-birth store.",
            ("operation",),
        )
        # Failures are rare: prometheus_client's own (locked) counter costs nothing that matters.
        self.store_errors = Counter(
            "store_errors", "Store calls that failed.", ["operation"], registry=self.registry
        )
        self.registry.register(self)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._requests.observe((route, method, str(status)), seconds)

    def collect(self) -> Iterator[Metric]:
        yield self._requests.counts("http_requests", "HTTP requests answered.")
        yield self._requests.family()
        yield self.store_seconds.family()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeteredStore:
    """A Store that records the latency and failures of every call to the store it wraps."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self._store = store
        self._seconds = metrics.store_seconds
        # Every operation's error series exists from the start, at 0, so alerts see a rate.
        self._errors = {
            labels: metrics.store_errors.labels(*labels) for labels in (_GET, _PUT, _CHECK)
        }

    async def _timed(self, operation: tuple[str], call: Awaitable[_Result]) -> _Result:
        # A try/finally in this coroutine: no timer object or context manager to make and enter
        # per call, on every request's path.
        start = time.perf_counter()
        try:
            return await call
        except StoreUnavailableError:
            self._errors[operation].inc()
            raise
        finally:
            self._seconds.observe(operation, time.perf_counter() - start)

    async def get(self, username: str) -> date | None:
        return await self._timed(_GET, self._store.get(username))

    async def put(self, username: str, born: date) -> None:
        await self._timed(_PUT, self._store.put(username, born))

    async def check(self) -> None:
        await self._timed(_CHECK, self._store.check())

    async def close(self) -> None:
        await self._store.close()
