"""OpenAPI-driven fuzzing of the app in process: no 5xx, every response matches the document."""

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.hooks import HookContext
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from hello_birthday.app import create_app
from hello_birthday.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Users saved before fuzzing, so that GET /hello/{username} can answer 200 and its greeting is
# checked against the Greeting schema: fuzzed names alone are almost never letters-only, let alone
# saved. One's birthday is the pinned today, so both wordings of the greeting come up.
SEEDED_USERS = {
    "Ann": "1990-11-28",
    "Zo\u00eb": "2000-02-29",
    "\u674e\u96f7": "1985-01-01",
    "Bob": "2026-11-27",
    "A" * 64: "1970-06-15",
}

# Built at import: schemathesis generates the test cases from the schema when it collects them.
_DATABASE = Path(tempfile.mkdtemp(prefix="hello-birthday-contract-")) / "birthdays.db"
APP = create_app(
    Settings(store_url=f"sqlite:///{_DATABASE}", access_log=False),
    clock=lambda: datetime(2026, 11, 28, 12, tzinfo=UTC),
)
with TestClient(APP) as _client:
    for _name, _born in SEEDED_USERS.items():
        assert _client.put(f"/hello/{_name}", json={"dateOfBirth": _born}).status_code == 204
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.hook
def flatmap_path_parameters(
    context: HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Keep each generated username, or swap in a seeded one (so GETs find a saved user)."""
    seeded = st.sampled_from(sorted(SEEDED_USERS)).map(lambda name: {"username": name})
    return st.one_of(st.just(path_parameters), seeded)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_response_conforms(case: schemathesis.Case[APIOperation[Any, Any, Any, Any]]) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.parametrize("username", sorted(SEEDED_USERS))
def test_greetings_of_saved_users_conform(username: str) -> None:
    # Not left to chance: a 200 greeting for every seeded user, checked against the document.
    case = schema["/hello/{username}"]["GET"].Case(path_parameters={"username": username})
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code == 200
    assert response.json()["message"].startswith(f"Hello, {username}! ")
