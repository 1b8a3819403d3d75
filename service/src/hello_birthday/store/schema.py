"""The DynamoDB table layout, defined once for the service, the platform and the tests."""

from typing import Any, Final

#: Partition key: the NFC-normalised username (a string attribute).
PARTITION_KEY: Final = "username"
#: The stored date of birth, an ISO ``YYYY-MM-DD`` string attribute.
DATE_OF_BIRTH: Final = "dateOfBirth"

KEY_SCHEMA: Final[list[dict[str, str]]] = [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}]
ATTRIBUTE_DEFINITIONS: Final[list[dict[str, str]]] = [
    {"AttributeName": PARTITION_KEY, "AttributeType": "S"}
]


def create_table_request(table_name: str) -> dict[str, Any]:
    """Keyword arguments for boto3's ``create_table`` with on-demand billing (tests, tools)."""
    return {
        "TableName": table_name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "BillingMode": "PAY_PER_REQUEST",
    }
