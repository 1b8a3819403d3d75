"""Prometheus metrics: requests by route template (never by raw username), and store calls."""

import time
from datetime import date

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from hello_birthday.store import Store, StoreUnavailableError

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One registry per application, so tests can build several apps in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        labels = ["route", "method", "status"]
        self._requests = Counter(
            "http_requests", "HTTP requests answered.", labels, registry=self.registry
        )
        self._request_seconds = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_seconds = Histogram(
            "store_call_duration_seconds",
            "Time of one call to the date-of-birth store.",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "store_errors", "Store calls that failed.", ["operation"], registry=self.registry
        )
        # labels() validates and locks on every call; the label sets are few, so keep the children.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self._requests.labels(route, method, status),
                self._request_seconds.labels(route, method, status),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeteredStore:
    """A Store that records the latency and failures of every call to the store it wraps."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self._store = store
        operations = ("get", "put", "check")
        self._seconds = {name: metrics.store_seconds.labels(name) for name in operations}
        self._errors = {name: metrics.store_errors.labels(name) for name in operations}

    def _measured(self, operation: str) -> "_StoreCallTimer":
        return _StoreCallTimer(self._seconds[operation], self._errors[operation])

    async def get(self, username: str) -> date | None:
        with self._measured("get"):
            return await self._store.get(username)

    async def put(self, username: str, born: date) -> None:
        with self._measured("put"):
            await self._store.put(username, born)

    async def check(self) -> None:
        with self._measured("check"):
            await self._store.check()

    async def close(self) -> None:
        await self._store.close()


class _StoreCallTimer:
    """Times one store call and counts it if it fails (a class: cheaper than a generator)."""

    __slots__ = ("_errors", "_seconds", "_start")

    def __init__(self, seconds: Histogram, errors: Counter) -> None:
        self._seconds = seconds
        self._errors = errors
        self._start = time.perf_counter()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._seconds.observe(time.perf_counter() - self._start)
        if kind is not None and issubclass(kind, StoreUnavailableError):
            self._errors.inc()
