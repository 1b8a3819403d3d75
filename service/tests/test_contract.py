"""OpenAPI-driven fuzzing of the app in process: no 5xx, every response matches the document."""

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hello_birthday.app import create_app
from hello_birthday.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Built at import: schemathesis generates the test cases from the schema when it collects them.
_DATABASE = Path(tempfile.mkdtemp(prefix="hello-birthday-contract-")) / "birthdays.db"
APP = create_app(
    Settings(store_url=f"sqlite:///{_DATABASE}", access_log=False),
    clock=lambda: datetime(2026, 11, 28, 12, tzinfo=UTC),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_response_conforms(case: schemathesis.Case[APIOperation[Any, Any, Any, Any]]) -> None:
    case.call_and_validate(checks=CHECKS)
