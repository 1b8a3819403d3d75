"""The OpenAPI 3.1 document of the API contract, served at /openapi.json."""

from typing import Any, Final

from hello_birthday.birthdays import MAX_USERNAME_LENGTH
from hello_birthday.problems import PROBLEM_JSON

MAX_BODY_BYTES: Final = 4096


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _json(description: str, schema_name: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}, "required": True}}
_BAD_USERNAME = _problem("The username is not 1 to 64 letters.")
_UNAVAILABLE = _problem("The store is unavailable; retry later.", _RETRY_AFTER)
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
                    "204": {"description": "Saved (created or replaced)."},
                    "400": _problem("The username or the body is invalid."),
                    "413": _problem(f"The body is larger than {MAX_BODY_BYTES} bytes."),
                    "503": _UNAVAILABLE,
                },
            },
        },
        "/healthz": {
            "get": {
                "operationId": "liveness",
                "summary": "Liveness: the process answers (the store is not checked).",
                "responses": {"200": _json("Alive.", "Status")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readiness",
                "summary": "Readiness: the store answers and the process is not shutting down.",
                "responses": {
                    "200": _json("Ready.", "Status"),
                    "503": _problem("Not ready: store unavailable or shutting down.", _RETRY_AFTER),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics.",
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
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
                        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
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
