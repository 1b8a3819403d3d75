"""RFC 9457 problem details: every error the API answers is one of these."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PROBLEM_JSON: Final = "application/problem+json"
#: What every problem type of ours starts with (a slug follows).
PROBLEM_TYPE_PREFIX: Final = "urn:hello-birthday:problem:"
#: Seconds a client should wait before retrying when the store is unavailable.
RETRY_AFTER_SECONDS: Final = 2


class ProblemError(Exception):
    """An error answered as ``application/problem+json``; raise it from any endpoint."""

    def __init__(
        self,
        status: int,
        slug: str | None,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        # "about:blank" means the HTTP status says it all (RFC 9457, section 4.2.1).
        self.type = "about:blank" if slug is None else PROBLEM_TYPE_PREFIX + slug
        self.title = HTTPStatus(status).phrase
        self.detail = detail
        self.headers = headers

    def content(self) -> dict[str, object]:
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }

    def response(self) -> Response:
        return JSONResponse(self.content(), self.status, self.headers, media_type=PROBLEM_JSON)


def invalid_input(slug: str, detail: str) -> ProblemError:
    return ProblemError(400, slug, detail)


def store_unavailable() -> ProblemError:
    return ProblemError(
        503,
        "store-unavailable",
        "The date-of-birth store is unavailable; retry after the delay in Retry-After.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def shutting_down(detail: str) -> ProblemError:
    return ProblemError(503, "shutting-down", detail, {"Retry-After": "1"})


def invalid_stored_date(username: str) -> ProblemError:
    """A stored date that is not a date: the server's data, so a 5xx, but no retry will help."""
    return ProblemError(
        500,
        "invalid-stored-date",
        f"The date of birth stored for {username} cannot be read; the error has been logged.",
    )


async def handle_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return exc.response()


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405, answered as problems with a hint."""
    assert isinstance(exc, HTTPException)
    allowed = (exc.headers or {}).get("Allow")
    hints = {
        404: f"No resource at {request.url.path}; see /openapi.json for the API.",
        405: f"{request.method} is not supported here; allowed: {allowed}.",
    }
    detail = hints.get(exc.status_code, exc.detail)
    return ProblemError(exc.status_code, None, detail, headers=exc.headers).response()


async def handle_unexpected(_: Request, exc: Exception) -> Response:
    """Last resort: no traceback leaves the process (it goes to the log instead)."""
    return ProblemError(500, None, "An unexpected error occurred; it has been logged.").response()
