"""A date of birth stored outside the service that is not a date: GET answers a problem, the
log says which user once, and neither the stored value nor a traceback reaches the log."""

import httpx
import pytest

from tests.support.contract import assert_problem, smoke_username
from tests.support.emulator import Emulator
from tests.support.service_process import ServiceStarter, error_messages
from tests.support.stored_rows import write_row

pytestmark = pytest.mark.timeout(60)

#: Looks like a date of birth, and is personal data if it is one: it must never be logged.
NOT_A_DATE = "1990-02-30"
INVALID_STORED_DATE = "urn:hello-birthday:problem:invalid-stored-date"


@pytest.mark.parametrize(
    ("store_name", "date_of_birth"),
    [("sqlite_store", NOT_A_DATE), ("dynamodb_store", NOT_A_DATE), ("dynamodb_store", None)],
    ids=["sqlite", "dynamodb", "dynamodb-no-date"],
)
def test_a_malformed_stored_date_is_a_problem_logged_without_the_value(
    request: pytest.FixtureRequest,
    start_service: ServiceStarter,
    emulator: Emulator,
    store_name: str,
    date_of_birth: str | None,
) -> None:
    env: dict[str, str] = request.getfixturevalue(store_name)
    service = start_service(env)
    user = smoke_username()
    write_row(env["HELLO_STORE"], user, date_of_birth, emulator=emulator)
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        for _ in range(2):
            problem = assert_problem(client.get(f"/hello/{user}"), 500)
            assert problem["type"] == INVALID_STORED_DATE
            assert user in str(problem["detail"])
            assert NOT_A_DATE not in str(problem["detail"])
        assert client.get("/readyz").status_code == 200, "one bad row is no outage"
    errors = error_messages(service.output())
    about_user = [message for message in errors if user in message]
    # Logged at once; the second GET is counted toward the next interval's line.
    assert len(about_user) == 1, errors
    assert service.stop() == 0
    output = service.output()
    assert NOT_A_DATE not in output
    assert "Traceback" not in output
