"""What the service must answer, worked out independently of its code: the tests' oracle."""

import email.utils
import re
import secrets
import string
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Final, TypeVar

import httpx

T = TypeVar("T")

#: Users the tests create start with this, so they can be found in a live table (no DELETE).
SMOKE_PREFIX: Final = "Smoketest"
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
