"""The IAM evaluation the boundary tests rely on decides as AWS documents it."""

from typing import Any

import pytest
from iam_evaluation import Request, authorized

ROLE = "arn:aws:iam::123456789012:role/app-task"
BOUNDARY = "arn:aws:iam::123456789012:policy/app-boundary"


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str, resource: str, **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return statement | ({"Condition": condition} if condition else {})


TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/app"
EVERYTHING = document(allow("*", "*"))


def test_a_boundary_caps_what_the_policies_allow() -> None:
    boundary = document(allow("dynamodb:GetItem", TABLE))
    assert authorized([EVERYTHING], Request("dynamodb:GetItem", TABLE), boundary)
    assert not authorized([EVERYTHING], Request("dynamodb:PutItem", TABLE), boundary)
    assert not authorized([EVERYTHING], Request("dynamodb:GetItem", TABLE + "2"), boundary)
    # ...and grants nothing by itself.
    assert not authorized([document()], Request("dynamodb:GetItem", TABLE), boundary)


def test_a_deny_anywhere_wins() -> None:
    deny = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}
    assert not authorized([EVERYTHING, document(deny)], Request("dynamodb:GetItem", TABLE))
    assert not authorized([EVERYTHING], Request("dynamodb:GetItem", TABLE), document(deny))


def test_actions_match_without_case_and_resources_with_it() -> None:
    policy = document(allow("DynamoDB:Get*", "arn:aws:dynamodb:*:*:table/app"))
    assert authorized([policy], Request("dynamodb:GetItem", TABLE))
    assert not authorized([policy], Request("dynamodb:GetItem", TABLE.upper()))


KEY = "iam:PermissionsBoundary"
SOURCE = {"aws:SourceArn": "arn:aws:ecs:eu-west-1:123456789012:task/x"}


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"ArnEquals": {KEY: BOUNDARY}}, {}, False),
        ({"ArnEquals": {KEY: BOUNDARY}}, {KEY: BOUNDARY}, True),
        ({"ArnEquals": {KEY: BOUNDARY}}, {KEY: BOUNDARY + "2"}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:ecs:*:123456789012:*"}}, SOURCE, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:ecs:*:210987654321:*"}}, SOURCE, False),
        # Each part of an ARN on its own: a wildcard does not reach across a colon.
        ({"ArnLike": {"aws:SourceArn": "arn:aws:ecs:*:task/x"}}, SOURCE, False),
        ({"StringEquals": {"k": ["a", "b"]}}, {"k": "b"}, True),
        ({"StringNotEquals": {"k": "a"}}, {}, True),
        ({"StringNotEquals": {"k": "a"}}, {"k": "a"}, False),
        ({"Null": {"k": "false"}}, {}, False),
        ({"Null": {"k": "false"}}, {"k": "a"}, True),
        ({"ForAllValues:StringLike": {"k": ["a*"]}}, {"k": ("ab", "ac")}, True),
        ({"ForAllValues:StringLike": {"k": ["a*"]}}, {"k": ("ab", "b")}, False),
        ({"ForAllValues:StringLike": {"k": ["a*"]}}, {}, True),
        ({"ForAnyValue:StringEquals": {"k": ["a"]}}, {}, False),
        # Every condition of a statement must hold.
        ({"StringEquals": {"k": "a", "j": "b"}}, {"k": "a"}, False),
    ],
)  # fmt: skip
def test_conditions(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    policy = document(allow("iam:CreateRole", ROLE, **condition))
    assert authorized([policy], Request("iam:CreateRole", ROLE, context)) is expected


@pytest.mark.parametrize(
    "condition",
    [{"NumericLessThan": {"k": "1"}}, {"ForAllValues:StringNotEquals": {"k": "a"}}],
)
def test_an_operator_it_does_not_implement_is_refused_not_guessed(
    condition: dict[str, Any],
) -> None:
    policy = document(allow("iam:CreateRole", ROLE, **condition))
    with pytest.raises(ValueError, match="not implemented"):
        authorized([policy], Request("iam:CreateRole", ROLE, {"k": "a"}))
