"""The policy pack's rules, called directly with hand-made resources (no PolicyPack server)."""

import json
from collections.abc import Mapping
from typing import Any

import policy_checks
import pytest
from guardrails import GUARDRAILS

RULES = {guardrail.name: guardrail for guardrail in GUARDRAILS}
TAGS = {"Project": "hello-birthday", "Environment": "dev", "ManagedBy": "pulumi"}
TABLE = "aws:dynamodb/table:Table"
LISTENER = "aws:lb/listener:Listener"
REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}


def violations(
    rule: str,
    resource_type: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> list[str]:
    return policy_checks.violations(RULES[rule], resource_type, props, config)


def policy_document(action: Any, resource: Any) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


def test_every_guardrail_becomes_a_policy_with_a_unique_name() -> None:
    policies = [guardrail.policy() for guardrail in GUARDRAILS]
    assert len({policy.name for policy in policies}) == len(GUARDRAILS) == 8


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"tagsAll": TAGS}, []),
        ({"tags": {"Project": "x"}, "tagsAll": TAGS}, []),
        ({"tags": {"Project": "x"}}, ["missing tags: Environment, ManagedBy"]),
        ({"tags": None}, ["missing tags: Project, Environment, ManagedBy"]),
        ({"name": "untaggable"}, []),
    ],
)
def test_required_tags(props: dict[str, Any], expected: list[str]) -> None:
    assert violations("required-tags", "aws:sns/topic:Topic", props) == expected


@pytest.mark.parametrize(
    ("encryption", "failing"),
    [
        ({"enabled": True, "kmsKeyArn": "arn:aws:kms:eu-west-1:1:key/k"}, False),
        ({"enabled": True}, True),  # the AWS-owned key, not ours
        ({"enabled": False, "kmsKeyArn": "arn:aws:kms:eu-west-1:1:key/k"}, True),
        (None, True),
    ],
)
def test_tables_are_encrypted_with_a_customer_key(encryption: Any, failing: bool) -> None:
    found = violations(
        "dynamodb-encrypted-with-customer-key", TABLE, {"serverSideEncryption": encryption}
    )
    assert bool(found) is failing


@pytest.mark.parametrize(
    ("pitr", "failing"), [({"enabled": True}, False), ({"enabled": False}, True), (None, True)]
)
def test_tables_have_point_in_time_recovery(pitr: Any, failing: bool) -> None:
    found = violations("dynamodb-point-in-time-recovery", TABLE, {"pointInTimeRecovery": pitr})
    assert bool(found) is failing


def test_rules_ignore_other_resource_types() -> None:
    assert violations("dynamodb-point-in-time-recovery", "aws:sns/topic:Topic", {}) == []


@pytest.mark.parametrize(("rotation", "failing"), [(True, False), (False, True), (None, True)])
def test_keys_rotate(rotation: Any, failing: bool) -> None:
    found = violations("kms-key-rotation", "aws:kms/key:Key", {"enableKeyRotation": rotation})
    assert bool(found) is failing


@pytest.mark.parametrize(("public_ip", "failing"), [(False, False), (None, False), (True, True)])
def test_ecs_tasks_get_no_public_ip(public_ip: Any, failing: bool) -> None:
    props = {"networkConfiguration": {"assignPublicIp": public_ip, "subnets": ["s"]}}
    found = violations("ecs-no-public-ip", "aws:ecs/service:Service", props)
    assert bool(found) is failing


TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/hello"
LOG_GROUP_ARN = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/hello"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (policy_document(["dynamodb:GetItem", "dynamodb:PutItem"], TABLE_ARN), []),
        (policy_document("dynamodb:GetItem", [TABLE_ARN]), []),
        (policy_document("dynamodb:*", TABLE_ARN), ["wildcard action 'dynamodb:*'"]),
        (policy_document(["dynamodb:Get*"], TABLE_ARN), ["wildcard action 'dynamodb:Get*'"]),
        (policy_document("dynamodb:GetItem", "*"), ["wildcard resource '*'"]),
        (
            policy_document("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/*"),
            ["wildcard resource 'arn:aws:dynamodb:eu-west-1:123456789012:table/*'"],
        ),
        (
            json.dumps(
                {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": TABLE_ARN}}
            ),
            ["inline policies must not use NotAction or NotResource"],
        ),
        (json.dumps({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}), []),
        (None, []),  # unknown during preview: checked again at update
        # The two exceptions, and their near misses.
        (policy_document("ecr:GetAuthorizationToken", "*"), []),
        (
            policy_document(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"),
            ["wildcard resource '*'"],
        ),
        (policy_document("logs:PutLogEvents", f"{LOG_GROUP_ARN}:log-stream:*"), []),
        (
            policy_document("logs:PutLogEvents", f"{LOG_GROUP_ARN}*:log-stream:*"),
            [f"wildcard resource '{LOG_GROUP_ARN}*:log-stream:*'"],
        ),
        (
            policy_document("logs:PutLogEvents", f"{LOG_GROUP_ARN}:*"),
            [f"wildcard resource '{LOG_GROUP_ARN}:*'"],
        ),
    ],
)
def test_inline_policies_have_no_wildcards(policy: str | None, expected: list[str]) -> None:
    found = violations(
        "iam-inline-policy-no-wildcards", "aws:iam/rolePolicy:RolePolicy", {"policy": policy}
    )
    assert found == expected


@pytest.mark.parametrize(
    ("props", "config", "failing"),
    [
        ({"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, None, False),
        ({"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"}, None, True),
        ({"protocol": "HTTP", "defaultActions": [REDIRECT]}, None, False),
        ({"protocol": "HTTP", "defaultActions": [{"type": "forward"}]}, None, True),
        ({"protocol": "HTTP", "defaultActions": [REDIRECT, {"type": "forward"}]}, None, True),
        ({"protocol": "HTTP", "defaultActions": []}, None, True),
        (
            {"protocol": "HTTP", "defaultActions": [{"type": "forward"}]},
            {"allowPlainHttp": True},
            False,
        ),
        (
            {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"},
            {"allowPlainHttp": True},
            True,
        ),
    ],
)
def test_listeners_serve_modern_https_or_redirect(
    props: dict[str, Any], config: dict[str, Any] | None, failing: bool
) -> None:
    assert bool(violations("alb-listener-https", LISTENER, props, config)) is failing


@pytest.mark.parametrize(
    ("mutability", "scan", "expected"),
    [
        ("IMMUTABLE", True, 0),
        ("MUTABLE", True, 1),
        ("IMMUTABLE", False, 1),
        ("MUTABLE", None, 2),
    ],
)
def test_repositories_are_immutable_and_scanned(mutability: str, scan: Any, expected: int) -> None:
    props = {"imageTagMutability": mutability, "imageScanningConfiguration": {"scanOnPush": scan}}
    found = violations("ecr-immutable-and-scanned", "aws:ecr/repository:Repository", props)
    assert len(found) == expected
