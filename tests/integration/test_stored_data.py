"""A date of birth stored outside the service that is not a date: GET answers a problem, the
log says which user once, and neither the stored value nor a traceback reaches the log."""

import sqlite3
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest

from hello_birthday.store.schema import DATE_OF_BIRTH, PARTITION_KEY
from tests.support.contract import assert_problem, smoke_username
from tests.support.service_process import ServiceStarter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.timeout(60)

#: Looks like a date of birth, and is personal data if it is one: it must never be logged.
NOT_A_DATE = "1990-02-30"
INVALID_STORED_DATE = "urn:hello-birthday:problem:invalid-stored-date"

Writer = Callable[[dict[str, str], str], None]


def write_sqlite_row(env: dict[str, str], user: str) -> None:
    path = env["HELLO_STORE"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as database, database:
        database.execute("INSERT INTO birthdays VALUES (?, ?)", (user, NOT_A_DATE))


def dynamodb_table(env: dict[str, str]) -> tuple["DynamoDBClient", str]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    return client, env["HELLO_STORE"].removeprefix("dynamodb://")


def write_dynamodb_item(env: dict[str, str], user: str) -> None:
    client, table = dynamodb_table(env)
    item = {PARTITION_KEY: {"S": user}, DATE_OF_BIRTH: {"S": NOT_A_DATE}}
    client.put_item(TableName=table, Item=item)


def write_dynamodb_item_without_a_date(env: dict[str, str], user: str) -> None:
    client, table = dynamodb_table(env)
    client.put_item(TableName=table, Item={PARTITION_KEY: {"S": user}})


@pytest.mark.parametrize(
    ("store_name", "write"),
    [
        ("sqlite_store", write_sqlite_row),
        ("dynamodb_store", write_dynamodb_item),
        ("dynamodb_store", write_dynamodb_item_without_a_date),
    ],
    ids=["sqlite", "dynamodb", "dynamodb-no-date"],
)
def test_a_malformed_stored_date_is_a_problem_logged_without_the_value(
    request: pytest.FixtureRequest, start_service: ServiceStarter, store_name: str, write: Writer
) -> None:
    env: dict[str, str] = request.getfixturevalue(store_name)
    service = start_service(env)
    user = smoke_username()
    write(env, user)
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        for _ in range(2):
            problem = assert_problem(client.get(f"/hello/{user}"), 500)
            assert problem["type"] == INVALID_STORED_DATE
            assert user in str(problem["detail"])
            assert NOT_A_DATE not in str(problem["detail"])
        assert client.get("/readyz").status_code == 200, "one bad row is no outage"
    errors = [line for line in service.access_log() if line.get("level") == "error"]
    about_user = [line for line in errors if user in str(line.get("message"))]
    assert len(about_user) == 1, errors  # at once; the second GET is only counted, for now
    assert service.stop() == 0
    output = service.output()
    assert NOT_A_DATE not in output
    assert "Traceback" not in output
