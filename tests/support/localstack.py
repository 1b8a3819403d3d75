"""A developer's LocalStack, when one answers with DynamoDB: the integration suite prefers it to
moto's server."""

import functools
import os
from typing import TYPE_CHECKING, Final, cast

import httpx
from localstack_client import config as localstack_config
from localstack_client.session import Session as LocalStackSession

from .emulator import DUMMY_CREDENTIALS, REGION, Emulator

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LOCALSTACK_DEFAULT_HOST: Final = "localhost:4566"


def localstack_endpoint() -> str:
    """Where LocalStack would answer: the variables localstack-client itself reads."""
    explicit = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    host, port = localstack_config.parse_localstack_host(
        os.environ.get("LOCALSTACK_HOST", LOCALSTACK_DEFAULT_HOST)
    )
    return f"http://{host}:{port}"


@functools.cache
def reachable_localstack() -> Emulator | None:
    """LocalStack at localstack_endpoint() if its health check lists DynamoDB as usable.

    Asked once per test session, so the header and the fixtures agree on the choice.
    """
    endpoint = localstack_endpoint()
    try:
        health = httpx.get(f"{endpoint}/_localstack/health", timeout=1.0).json()
    except (httpx.HTTPError, ValueError):
        return None
    services = health.get("services") if isinstance(health, dict) else None
    if not isinstance(services, dict) or services.get("dynamodb") not in {"available", "running"}:
        return None
    return Emulator("LocalStack", endpoint, functools.partial(_localstack_client, endpoint))


def _localstack_client(endpoint: str) -> "DynamoDBClient":
    session = LocalStackSession(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
        localstack_host=endpoint.split("://", 1)[-1],
    )
    return cast("DynamoDBClient", session.client("dynamodb"))
