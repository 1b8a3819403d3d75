"""The OpenAPI 3.1 document of the API contract, served at /openapi.json."""

from typing import Any, Final

from hello_birthday.birthdays import ISO_CALENDAR_DATE, MAX_USERNAME_LENGTH
from hello_birthday.observability import REQUEST_ID_PATTERN
from hello_birthday.problems import PROBLEM_JSON, PROBLEM_TYPE_PREFIX
from hello_birthday.request_body import MAX_BODY_BYTES

#: On every response: the caller's X-Request-ID when it is safe to echo, else a generated one.
_REQUEST_ID = {
    "X-Request-ID": {
        "description": (
            "The request's id, also in its access log line: the caller's own X-Request-ID when "
            f"it matches {REQUEST_ID_PATTERN}, else a new one."
        ),
        "schema": {"type": "string", "pattern": f"^{REQUEST_ID_PATTERN}$"},
        "required": True,
    }
}


def _response(
    description: str, content: dict[str, Any] | None = None, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "headers": _REQUEST_ID | (headers or {}),
    }
    if content:
        response["content"] = content
    return response


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return _response(description, content, headers)


def _json(description: str, schema_name: str) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}
    return _response(description, content)


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}, "required": True}}
_BAD_USERNAME = _problem("The username is not 1 to 64 letters.")
_UNAVAILABLE = _problem("The store is unavailable; retry later.", _RETRY_AFTER)
_NOT_ALLOWED = _problem(
    "The method is not served on this path; Allow lists those that are.",
    {"Allow": {"schema": {"type": "string"}, "required": True}},
)
_USERNAME = {
    "name": "username",
    "in": "path",
    "required": True,
    "description": (
        f"1 to {MAX_USERNAME_LENGTH} Unicode letters, compared after NFC normalisation; "
        "case is significant."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_USERNAME_LENGTH},
}

DOCUMENT: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {
        "title": "hello-birthday",
        "version": "1.0.0",
        "description": "Remembers people's dates of birth and greets them.",
    },
    "paths": {
        "/hello/{username}": {
            "parameters": [_USERNAME],
            "get": {
                "operationId": "getGreeting",
                "summary": "Greet the user with the days until their birthday.",
                "responses": {
                    "200": _json("The greeting.", "Greeting"),
                    "400": _BAD_USERNAME,
                    "404": _problem("No date of birth is stored for this user."),
                    "405": _NOT_ALLOWED,
                    "500": _problem(
                        "The stored date of birth is not a date (written outside the service); "
                        f"type {PROBLEM_TYPE_PREFIX}invalid-stored-date."
                    ),
                    "503": _UNAVAILABLE,
                },
            },
            "put": {
                "operationId": "putDateOfBirth",
                "summary": "Save or replace the user's date of birth.",
                "requestBody": {
                    "required": True,
                    "description": (
                        f"Read as JSON whatever its Content-Type; {MAX_BODY_BYTES} bytes at most."
                    ),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/DateOfBirth"}}
                    },
                },
                "responses": {
                    "204": _response("Saved (created or replaced)."),
                    "400": _problem("The username or the body is invalid."),
                    "405": _NOT_ALLOWED,
                    "413": _problem(f"The body is larger than {MAX_BODY_BYTES} bytes."),
                    "503": _problem(
                        "The store is unavailable, or the process stopped before the body "
                        "arrived; retry later.",
                        _RETRY_AFTER,
                    ),
                },
            },
        },
        "/healthz": {
            "get": {
                "operationId": "liveness",
                "summary": "Liveness: the process answers (the store is not checked).",
                "responses": {"200": _json("Alive.", "Status"), "405": _NOT_ALLOWED},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readiness",
                "summary": (
                    "Readiness: the store can read and write, and the process is not shutting down."
                ),
                "responses": {
                    "200": _json("Ready.", "Status"),
                    "405": _NOT_ALLOWED,
                    "503": _problem("Not ready: store unavailable or shutting down.", _RETRY_AFTER),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {
                    "200": _response(
                        "The OpenAPI document.",
                        {"application/json": {"schema": {"type": "object"}}},
                    ),
                    "405": _NOT_ALLOWED,
                },
            }
        },
    },
    "components": {
        "schemas": {
            "DateOfBirth": {
                "type": "object",
                "required": ["dateOfBirth"],
                "properties": {
                    "dateOfBirth": {
                        "type": "string",
                        "format": "date",
                        "pattern": f"^{ISO_CALENDAR_DATE.pattern}$",
                        "description": "A calendar date strictly before today, as YYYY-MM-DD.",
                        "examples": ["1990-05-17"],
                    }
                },
            },
            "Greeting": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": {
                        "type": "string",
                        "examples": [
                            "Hello, Alice! Your birthday is in 5 day(s)",
                            "Hello, Alice! Happy birthday!",
                        ],
                    }
                },
            },
            "Status": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string"}},
            },
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details.",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string", "format": "uri-reference"},
                    "title": {"type": "string"},
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "detail": {"type": "string"},
                },
            },
        }
    },
}
