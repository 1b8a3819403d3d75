"""The black-box API suite: the whole HTTP contract, against any base URL (`nox -s smoke -- URL`).

It creates users named Smoketest<random letters>: the API has no DELETE, and the prefix makes them
easy to find in a live environment. It assumes the service's HELLO_TIMEZONE is UTC (the default).
"""

import json
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest

from tests.support.contract import (
    BODY_LIMIT,
    INVALID_BODIES,
    INVALID_NAMES,
    NAME_LIMIT,
    SMOKE_PREFIX,
    RefusedBody,
    as_body,
    assert_problem,
    born,
    days_in_greeting,
    days_until_birthday,
    describe,
    greeting,
    media_type,
    on_one_utc_day,
    padded_body,
    smoke_username,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        yield client


def put_birthday(client: httpx.Client, name: str, birth: date) -> httpx.Response:
    return client.put(f"/hello/{name}", json={"dateOfBirth": birth.isoformat()})


def assert_no_content(response: httpx.Response) -> None:
    assert response.status_code == 204, describe(response)
    assert response.content == b"", describe(response)


def assert_greets(client: httpx.Client, name: str, days: int) -> None:
    response = client.get(f"/hello/{name}")
    assert response.status_code == 200, describe(response)
    assert media_type(response) == "application/json", describe(response)
    assert response.json() == greeting(name, days), describe(response)


def stored_days(client: httpx.Client, name: str) -> int:
    return days_in_greeting(client.get(f"/hello/{name}"))[1]


# --- PUT and GET --------------------------------------------------------------------------------


@pytest.mark.parametrize("days_ahead", [0, 1, 2, 10, 180, 364])
def test_put_then_get_counts_days_to_next_birthday(client: httpx.Client, days_ahead: int) -> None:
    name = smoke_username()

    def check(today: date) -> None:
        assert_no_content(put_birthday(client, name, born(days_ahead, today)))
        assert_greets(client, name, days_ahead)

    on_one_utc_day(check)


def test_birthday_yesterday_is_next_year(client: httpx.Client) -> None:
    name = smoke_username()

    def check(today: date) -> None:
        birth = born(0, today) - timedelta(days=1)
        days = days_until_birthday(birth, today)
        assert days in {364, 365}
        assert_no_content(put_birthday(client, name, birth))
        assert_greets(client, name, days)

    on_one_utc_day(check)


@pytest.mark.parametrize("birth", ["2000-02-29", "1996-02-28", "1999-12-31", "1980-01-01"])
def test_fixed_dates_of_birth(client: httpx.Client, birth: str) -> None:
    """Including 29 February, celebrated on 28 February in common years."""
    name = smoke_username()
    assert_no_content(put_birthday(client, name, date.fromisoformat(birth)))
    on_one_utc_day(
        lambda today: assert_greets(
            client, name, days_until_birthday(date.fromisoformat(birth), today)
        )
    )


def test_put_replaces_the_date_and_answers_204_again(client: httpx.Client) -> None:
    name = smoke_username()

    def check(today: date) -> None:
        assert_no_content(put_birthday(client, name, born(5, today)))
        assert_no_content(put_birthday(client, name, born(20, today)))
        assert_greets(client, name, 20)

    on_one_utc_day(check)


def test_body_is_json_whatever_the_content_type(client: httpx.Client) -> None:
    name = smoke_username()

    def check(today: date) -> None:
        body = json.dumps({"dateOfBirth": born(3, today).isoformat()})
        headers = {"content-type": "application/x-www-form-urlencoded"}  # what curl -d sends
        assert_no_content(client.put(f"/hello/{name}", content=body, headers=headers))
        assert_greets(client, name, 3)

    on_one_utc_day(check)


@pytest.mark.parametrize("suffix", ["Zoë", "Łukasz", "Ñandú", "Ελένη", "Борис", "李"])
def test_unicode_letters_are_valid_names(client: httpx.Client, suffix: str) -> None:
    name = smoke_username(suffix)

    def check(today: date) -> None:
        assert_no_content(put_birthday(client, name, born(7, today)))
        assert_greets(client, name, 7)

    on_one_utc_day(check)


def test_composed_and_decomposed_spellings_are_one_user(client: httpx.Client) -> None:
    composed = smoke_username("Zoë")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed

    def check(today: date) -> None:
        assert_no_content(put_birthday(client, decomposed, born(11, today)))
        assert_greets(client, composed, 11)
        assert_no_content(put_birthday(client, composed, born(12, today)))
        assert_greets(client, decomposed, 12)

    on_one_utc_day(check)


def test_case_is_significant(client: httpx.Client) -> None:
    letters = smoke_username().removeprefix(SMOKE_PREFIX)
    lower, upper = SMOKE_PREFIX + letters.lower(), SMOKE_PREFIX + letters.upper()

    def check(today: date) -> None:
        assert_no_content(put_birthday(client, lower, born(30, today)))
        assert_problem(client.get(f"/hello/{upper}"), 404)
        assert_no_content(put_birthday(client, upper, born(40, today)))
        assert_greets(client, lower, 30)
        assert_greets(client, upper, 40)

    on_one_utc_day(check)


def test_sixty_four_letters_is_the_longest_name(client: httpx.Client) -> None:
    name = smoke_username()
    name += "x" * (NAME_LIMIT - len(name))

    def check(today: date) -> None:
        assert_no_content(put_birthday(client, name, born(1, today)))
        assert_greets(client, name, 1)

    on_one_utc_day(check)


def test_unknown_user_is_404(client: httpx.Client) -> None:
    assert_problem(client.get(f"/hello/{smoke_username()}"), 404)


# --- rejected input -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", INVALID_NAMES.values(), ids=INVALID_NAMES.keys())
def test_invalid_name_is_400_on_get_and_put(client: httpx.Client, name: str) -> None:
    assert_problem(client.get(f"/hello/{name}"), 400)
    assert_problem(client.put(f"/hello/{name}", json={"dateOfBirth": "2000-01-01"}), 400)


@pytest.fixture
def known_user(client: httpx.Client) -> Iterator[str]:
    """A user whose birthday is 9 days away; the test must leave it so."""
    name = smoke_username()
    before = on_one_utc_day(lambda today: put_birthday(client, name, born(9, today)))
    assert_no_content(before)
    yield name
    on_one_utc_day(lambda _: assert_greets(client, name, 9))  # a rejected PUT changed nothing


@pytest.mark.parametrize("refused", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_body_is_refused_and_changes_nothing(
    client: httpx.Client, known_user: str, refused: RefusedBody
) -> None:
    def check(today: date) -> None:
        response = client.put(f"/hello/{known_user}", content=refused.build(today))
        assert_problem(response, refused.status)

    on_one_utc_day(check)


def test_body_at_the_limit_is_accepted(client: httpx.Client) -> None:
    name = smoke_username()
    assert_no_content(client.put(f"/hello/{name}", content=padded_body(BODY_LIMIT)))


def test_chunked_body_over_the_limit_is_413(client: httpx.Client, known_user: str) -> None:
    # About 5 KB: over the service's limit, under the 8 KB above which the WAF's managed Common
    # rule set (staging, prod) answers 403 itself (SizeRestrictions_BODY).
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        yield b'{"dateOfBirth": "2000-01-01"'
        for _ in range(5):
            yield b" " * 1024
        yield b"}"

    assert_problem(client.put(f"/hello/{known_user}", content=chunks()), 413)


@pytest.mark.parametrize("method", ["DELETE", "POST", "PATCH"])
def test_other_methods_are_405(client: httpx.Client, known_user: str, method: str) -> None:
    body = as_body("2000-01-01") if method != "DELETE" else None
    response = client.request(method, f"/hello/{known_user}", content=body)
    assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
    assert {"GET", "PUT"} <= allowed, describe(response)  # RFC 9110: a 405 lists what is allowed


# --- operations ---------------------------------------------------------------------------------


def test_request_id_is_echoed(client: httpx.Client) -> None:
    for path in ("/healthz", f"/hello/{smoke_username()}", "/hello/not_valid"):
        request_id = f"smoketest-{smoke_username()}"
        response = client.get(path, headers={"X-Request-ID": request_id})
        assert response.headers.get("x-request-id") == request_id, describe(response)


def test_request_id_is_generated_when_absent(client: httpx.Client) -> None:
    first = client.get("/healthz").headers.get("x-request-id")
    second = client.get("/healthz").headers.get("x-request-id")
    assert first
    assert second
    assert first != second


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_200(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, describe(response)


def test_openapi_document_is_openapi_3_1_json(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200, describe(response)
    document = response.json()
    assert str(document.get("openapi", "")).startswith("3.1."), describe(response)
    operations = document["paths"]["/hello/{username}"]
    assert {"get", "put"} <= set(operations), sorted(operations)
