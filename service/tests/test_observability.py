"""Request ids, the JSON access log and the metrics, as a client and an operator see them."""

import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpx2 import Response
from starlette.testclient import TestClient

from hello_birthday.app import Endpoints, build_app, create_app
from hello_birthday.logs import uvicorn_log_config
from hello_birthday.metrics import Metrics
from hello_birthday.metrics_server import metrics_app
from hello_birthday.settings import Settings
from tests.support.processes import free_port


@pytest.fixture
def sqlite_endpoints(tmp_path: Path) -> Endpoints:
    return Endpoints(Settings(store_url=f"sqlite:///{tmp_path / 'db.sqlite'}"))


@pytest.fixture
def sqlite_client(sqlite_endpoints: Endpoints) -> Iterator[TestClient]:
    with TestClient(build_app(sqlite_endpoints), raise_server_exceptions=False) as client:
        yield client


def test_request_id_is_echoed_when_safe_and_generated_otherwise(
    sqlite_client: TestClient,
) -> None:
    echoed = sqlite_client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = sqlite_client.get("/healthz", headers={"X-Request-ID": "bad\tid"})
    assert generated.headers["x-request-id"] not in {"", "bad\tid"}
    assert len(generated.headers["x-request-id"]) == 32
    other = sqlite_client.get("/healthz")
    assert other.headers["x-request-id"] != generated.headers["x-request-id"]


def test_errors_carry_a_request_id_too(sqlite_client: TestClient) -> None:
    assert "x-request-id" in sqlite_client.get("/hello/bad1").headers
    assert "x-request-id" in sqlite_client.delete("/hello/bob").headers


def test_access_log_has_one_json_line_per_request_and_no_date_of_birth(tmp_path: Path) -> None:
    stream = io.StringIO()
    app = create_app(Settings(store_url=f"sqlite:///{tmp_path / 'db.sqlite'}"), log_stream=stream)
    with TestClient(app) as client:
        client.put("/hello/Ivy", json={"dateOfBirth": "1987-06-05"}, headers={"X-Request-ID": "r1"})
        client.get("/hello/Ivy", headers={"X-Request-ID": "r2"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["request_id"], line["method"], line["status"]) for line in lines] == [
        ("r1", "PUT", 204),
        ("r2", "GET", 200),
    ]
    for line in lines:
        assert line["route"] == "/hello/{username}"
        assert line["duration_ms"] >= 0
        # UTC to the millisecond, e.g. 2026-11-28T12:00:00.042+00:00, and written just now.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
        written = datetime.fromisoformat(line["time"])
        assert abs(written - datetime.now(UTC)) < timedelta(seconds=10)
    assert "1987" not in stream.getvalue()
    assert "Ivy" not in stream.getvalue()


def test_metrics_are_labelled_by_route_template_never_by_username(
    sqlite_client: TestClient, sqlite_endpoints: Endpoints
) -> None:
    sqlite_client.put("/hello/Jules", json={"dateOfBirth": "1990-01-01"})
    sqlite_client.get("/hello/Jules")
    sqlite_client.get("/hello/Nobody")
    sqlite_client.get("/no/such/path")
    response = scrape(sqlite_endpoints.metrics)
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'http_requests_total{method="GET",route="/hello/{username}",status="200"} 1.0' in text
    assert 'http_requests_total{method="GET",route="/hello/{username}",status="404"} 1.0' in text
    assert 'http_requests_total{method="PUT",route="/hello/{username}",status="204"} 1.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET"' in text
    assert 'store_call_duration_seconds_count{operation="get"} 2.0' in text
    assert "Jules" not in text
    assert "Nobody" not in text


def scrape(metrics: Metrics) -> Response:
    """GET /metrics from the metrics app of an application's metrics."""
    with TestClient(metrics_app(metrics)) as client:
        response: Response = client.get("/metrics")
    return response


def test_the_metrics_app_serves_get_metrics_only(sqlite_endpoints: Endpoints) -> None:
    with TestClient(metrics_app(sqlite_endpoints.metrics)) as metrics:
        assert metrics.head("/metrics").status_code == 200
        assert metrics.post("/metrics").status_code == 405
        assert metrics.get("/hello/Jules").status_code == 404


@pytest.fixture
def unreachable_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Endpoints:
    """Endpoints on a DynamoDB store whose endpoint refuses every connection."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return Endpoints(
        Settings(
            store_url="dynamodb://birthdays", aws_region="us-east-1", dynamodb_endpoint=endpoint
        )
    )


def test_store_outage_is_a_quick_503_and_liveness_stays_up(
    unreachable_dynamodb: Endpoints,
) -> None:
    with TestClient(build_app(unreachable_dynamodb)) as client:
        for response in (
            client.get("/hello/Kim"),
            client.put("/hello/Kim", json={"dateOfBirth": "1990-01-01"}),
            client.get("/readyz"),
        ):
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "2"
        assert client.get("/healthz").status_code == 200
        metrics = scrape(unreachable_dynamodb.metrics).text
    assert 'store_errors_total{operation="get"} 1.0' in metrics
    assert 'store_errors_total{operation="put"} 1.0' in metrics


def test_store_failures_are_logged_with_their_cause_without_a_line_per_request(
    unreachable_dynamodb: Endpoints, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="hello_birthday")
    with TestClient(build_app(unreachable_dynamodb)) as client:
        assert client.get("/hello/Kim").status_code == 503
        first = [record.getMessage() for record in caplog.records]
        for _ in range(5):
            assert client.put("/hello/Kim", json={"dateOfBirth": "1990-01-01"}).status_code == 503
        assert client.get("/readyz").status_code == 503
        assert len(caplog.records) == 1  # the others are counted within the interval
    # At shutdown, the line for the failures counted since.
    [summary] = caplog.records[1:]
    assert len(first) == 1
    assert first[0].startswith("store unavailable: get: DynamoDB call failed: ")
    assert "Connect" in first[0]  # the cause: the endpoint refused the connection
    assert summary.getMessage().startswith("store unavailable: check: ")
    assert getattr(summary, "fields", None) == {"count": 6}


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Undoes the server's logging configuration after a test that applies it."""
    yield
    for name in uvicorn_log_config("info")["loggers"]:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def test_the_dynamodb_clients_own_warnings_are_json_lines_too(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(uvicorn_log_config("info"))  # here: stdout is capsys's now
    # aiodynamo logs a failed credentials lookup (the ECS role's endpoint, say) this way.
    logging.getLogger("aiodynamo.credentials").warning("Candidate %r failed", "container")
    line = json.loads(capsys.readouterr().out)
    assert line["logger"] == "aiodynamo.credentials"
    assert line["level"] == "warning"
    assert line["message"] == "Candidate 'container' failed"


def test_an_events_own_fields_are_fields_of_its_json_line(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(uvicorn_log_config("info"))
    logging.getLogger("hello_birthday").error("store unavailable", extra={"fields": {"count": 3}})
    line = json.loads(capsys.readouterr().out)
    assert line["message"] == "store unavailable"
    assert line["count"] == 3
