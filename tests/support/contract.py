"""What the service must answer, worked out independently of its code: the tests' oracle.

Its tables of refused input drive both the in-process API tests and the black-box suite.
"""

import email.utils
import json
import re
import secrets
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, TypeVar

import httpx

T = TypeVar("T")

#: Users the tests create start with this, so they can be found in a live table (no DELETE).
SMOKE_PREFIX: Final = "Smoketest"
#: The longest username, in letters.
NAME_LIMIT: Final = 64
#: The largest request body the service reads, in bytes.
BODY_LIMIT: Final = 4096
#: A multiple of 4: a birth year this far back keeps 29 February wherever today's year has it.
YEARS_BACK: Final = 28
GREETING = re.compile(
    r"Hello, (?P<name>.+)! (?:Happy birthday!|Your birthday is in (?P<days>\d+) day\(s\))"
)


def smoke_username(suffix: str = "") -> str:
    """A new user name: the prefix, twelve random ASCII letters, then suffix."""
    letters = "".join(secrets.choice(string.ascii_letters) for _ in range(12))
    return f"{SMOKE_PREFIX}{letters}{suffix}"


def utc_today() -> date:
    return datetime.now(UTC).date()


def on_one_utc_day(check: Callable[[date], T]) -> T:
    """Run check(today) again if UTC midnight passed while it ran: its expectations moved."""
    for _ in range(2):
        today = utc_today()
        result = check(today)
        if utc_today() == today:
            return result
    raise AssertionError("UTC midnight passed twice during one check")


def born(days_ahead: int, today: date) -> date:
    """A date of birth whose next birthday is days_ahead (0 to 364) days after today."""
    birthday = today + timedelta(days=days_ahead)
    return birthday.replace(year=birthday.year - YEARS_BACK)


def celebrated(birth: date, year: int) -> date:
    """The birthday in a year: 29 February falls on 28 February in common years."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def days_until_birthday(birth: date, today: date) -> int:
    """Days from today to the next birthday, 0 to 365."""
    this_year = celebrated(birth, today.year)
    next_one = this_year if this_year >= today else celebrated(birth, today.year + 1)
    return (next_one - today).days


def greeting(name: str, days: int) -> dict[str, str]:
    """The exact GET body for a user whose birthday is days away."""
    person = unicodedata.normalize("NFC", name)
    if days == 0:
        return {"message": f"Hello, {person}! Happy birthday!"}
    return {"message": f"Hello, {person}! Your birthday is in {days} day(s)"}


def days_in_greeting(response: httpx.Response) -> tuple[str, int]:
    """(name, days) of a 200 greeting; fails the test on any other shape."""
    assert response.status_code == 200, describe(response)
    body = response.json()
    assert isinstance(body, dict), describe(response)
    assert list(body) == ["message"], describe(response)
    match = GREETING.fullmatch(body["message"])
    assert match is not None, describe(response)
    return match["name"], int(match["days"] or 0)


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    """An RFC 9457 problem with the given status, as every error of the service is."""
    assert response.status_code == status, describe(response)
    assert media_type(response) == "application/problem+json", describe(response)
    problem = response.json()
    assert isinstance(problem, dict), describe(response)
    for member in ("type", "title", "detail"):
        assert isinstance(problem.get(member), str), f"{member!r} missing: {describe(response)}"
    assert problem["status"] == status, describe(response)
    assert str(problem["detail"]).strip(), f"empty detail: {describe(response)}"
    return problem


def assert_retry_after(response: httpx.Response) -> None:
    """Retry-After is delta-seconds or an HTTP date (RFC 9110, section 10.2.3)."""
    value = response.headers.get("retry-after", "")
    if value.isdigit():
        return
    try:
        email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise AssertionError(f"Retry-After {value!r}: {describe(response)}") from None


def media_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower()


def describe(response: httpx.Response) -> str:
    """The request and answer, for assertion messages."""
    request = response.request
    return (
        f"{request.method} {request.url} -> {response.status_code} "
        f"{response.headers.get('content-type')!r} {response.text[:300]!r}"
    )


# --- refused input ------------------------------------------------------------------------------

#: Usernames that are not 1 to NAME_LIMIT letters: each is a 400 problem on GET and on PUT, and
#: nothing is stored. Those with letters hold SMOKE_PREFIX, so that one accepted by mistake is
#: easy to find in a live table.
INVALID_NAMES: Final = {
    "digit": f"{SMOKE_PREFIX}1",
    "underscore": f"{SMOKE_PREFIX}_a",
    "hyphen": f"{SMOKE_PREFIX}-a",
    "space": f"{SMOKE_PREFIX} a",
    "dot": f"{SMOKE_PREFIX}.a",
    "trailing-dot": f"{SMOKE_PREFIX}.",
    "apostrophe": f"{SMOKE_PREFIX}'a",
    "emoji": f"{SMOKE_PREFIX}\N{GRINNING FACE}",
    "zero-width-space": f"{SMOKE_PREFIX}\u200ba",
    "trailing-zero-width-space": f"{SMOKE_PREFIX}\u200b",
    "zero-width-joiner": f"{SMOKE_PREFIX}\u200da",
    "leading-zero-width-joiner": f"\u200d{SMOKE_PREFIX}",
    "only-a-space": " ",
    "only-zero-width": "\u200b",
    "sixty-five-letters": SMOKE_PREFIX + "x" * (NAME_LIMIT + 1 - len(SMOKE_PREFIX)),
}


def as_body(date_of_birth: object) -> bytes:
    """A JSON body whose dateOfBirth is date_of_birth, whatever its type."""
    return json.dumps({"dateOfBirth": date_of_birth}).encode()


def padded_body(size: int) -> bytes:
    """A valid body of exactly size bytes: JSON allows any amount of whitespace."""
    head, tail = b'{"dateOfBirth": "2000-01-01"', b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


@dataclass(frozen=True)
class RefusedBody:
    """A PUT body the service answers with a problem of this status, storing nothing; built
    from the service's today, as some cases are relative to it."""

    build: Callable[[date], bytes]
    status: int = 400


INVALID_BODIES: Final = {
    # dates that are not one calendar date in YYYY-MM-DD
    "basic-iso-format": RefusedBody(lambda _: as_body("20000101")),
    "unpadded": RefusedBody(lambda _: as_body("2000-1-1")),
    "no-such-day": RefusedBody(lambda _: as_body("2000-02-30")),
    "29-feb-common-year": RefusedBody(lambda _: as_body("2001-02-29")),
    "iso-week-date": RefusedBody(lambda _: as_body("2000-W01-1")),
    "with-time": RefusedBody(lambda _: as_body("2000-01-01T00:00:00")),
    "padded-with-spaces": RefusedBody(lambda _: as_body(" 2000-01-01 ")),
    # dates not before today
    "today": RefusedBody(lambda today: as_body(today.isoformat())),
    "tomorrow": RefusedBody(lambda today: as_body((today + timedelta(days=1)).isoformat())),
    "new-year-in-four-years": RefusedBody(
        lambda today: as_body(date(today.year + 4, 1, 1).isoformat())
    ),
    "far-future": RefusedBody(lambda _: as_body("9999-12-31")),
    # dateOfBirth not a string
    "null": RefusedBody(lambda _: as_body(None)),
    "number": RefusedBody(lambda _: as_body(20000101)),
    "boolean": RefusedBody(lambda _: as_body(True)),
    "object": RefusedBody(lambda _: as_body({"year": 2000})),
    "array-value": RefusedBody(lambda _: as_body(["2000-01-01"])),
    # no dateOfBirth
    "missing-field": RefusedBody(lambda _: b"{}"),
    "other-field-only": RefusedBody(lambda _: b'{"birthday": "2000-01-01"}'),
    "abbreviated-field-only": RefusedBody(lambda _: b'{"dob": "2000-01-01"}'),
    # not a JSON object
    "malformed-json": RefusedBody(lambda _: b'{"dateOfBirth": "2000-01-01"'),
    "array": RefusedBody(lambda _: b'["2000-01-01"]'),
    "string": RefusedBody(lambda _: b'"2000-01-01"'),
    "number-body": RefusedBody(lambda _: b"42"),
    "null-body": RefusedBody(lambda _: b"null"),
    "empty-body": RefusedBody(lambda _: b""),
    "deeply-nested": RefusedBody(lambda _: b"[" * 4000),  # within BODY_LIMIT
    # not UTF-8
    "not-utf8": RefusedBody(lambda _: b'{"dateOfBirth": "\xff"}'),
    "utf-16-bom": RefusedBody(lambda _: b"\xff\xfe\x00"),
    # too large
    "one-byte-over-the-limit": RefusedBody(lambda _: padded_body(BODY_LIMIT + 1), status=413),
}
