"""The platform's guard rails as CrossGuard resource policies.

Each rule is a pure check of one resource's properties (the engine's camelCase inputs); the
pack's entry point (__main__.py) turns them into mandatory policies. Tests call `validate`
directly: constructing a PolicyPack starts a gRPC server and blocks.
"""

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

REQUIRED_TAGS = ("Project", "Environment", "ManagedBy")
MODERN_TLS_POLICIES = frozenset({"ELBSecurityPolicy-TLS13-1-2-2021-06"})
# Actions with no resource type in the IAM service authorization reference: "*" is the only
# resource AWS accepts for them.
RESOURCELESS_ACTIONS = frozenset({"ecr:GetAuthorizationToken"})
# The streams of one named log group: a writer creates them, their names are not known before.
LOG_STREAMS_OF_ONE_GROUP = re.compile(r"arn:[^*]+:logs:[^*]+:log-group:[^*:]+:log-stream:\*")

Props = Mapping[str, Any]
Check = Callable[[Props, Mapping[str, Any]], Iterator[str]]


@dataclass(frozen=True)
class Guardrail:
    """One rule: which resource types it looks at and what it finds wrong with them."""

    name: str
    description: str
    resource_types: frozenset[str]
    check: Check
    config: dict[str, dict[str, Any]] = field(default_factory=dict)

    def validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if self.resource_types and args.resource_type not in self.resource_types:
            return
        config = {key: schema["default"] for key, schema in self.config.items()}
        config.update(args.get_config())
        for message in self.check(args.props, config):
            report_violation(message, None)

    def policy(self) -> ResourceValidationPolicy:
        return ResourceValidationPolicy(
            name=self.name,
            description=self.description,
            validate=self.validate,
            config_schema=PolicyConfigSchema(properties=self.config) if self.config else None,
        )


def _required_tags(props: Props, _: Mapping[str, Any]) -> Iterator[str]:
    # Resources without tag properties cannot carry tags; tagsAll includes provider defaults.
    if "tags" not in props and "tagsAll" not in props:
        return
    tags = {**(props.get("tags") or {}), **(props.get("tagsAll") or {})}
    missing = [tag for tag in REQUIRED_TAGS if tag not in tags]
    if missing:
        yield f"missing tags: {', '.join(missing)}"


def _table_encrypted(props: Props, _: Mapping[str, Any]) -> Iterator[str]:
    encryption = props.get("serverSideEncryption") or {}
    if not encryption.get("enabled") or not encryption.get("kmsKeyArn"):
        yield "DynamoDB tables must be encrypted with a customer-managed KMS key"


def _table_recoverable(props: Props, _: Mapping[str, Any]) -> Iterator[str]:
    if not (props.get("pointInTimeRecovery") or {}).get("enabled"):
        yield "DynamoDB tables must have point-in-time recovery enabled"


def _key_rotated(props: Props, _: Mapping[str, Any]) -> Iterator[str]:
    if not props.get("enableKeyRotation"):
        yield "KMS keys must have automatic rotation enabled"


def _no_public_ip(props: Props, _: Mapping[str, Any]) -> Iterator[str]:
    if (props.get("networkConfiguration") or {}).get("assignPublicIp"):
        yield "ECS services must not assign public IPs to tasks"


def _statements(document: Any) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _no_wildcards(props: Props, _: Mapping[str, Any]) -> Iterator[str]:
    policy = props.get("policy")
    if not isinstance(policy, str):  # unknown until its inputs resolve (preview)
        return
    for statement in _statements(json.loads(policy)):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            yield "inline policies must not use NotAction or NotResource"
        actions = _as_list(statement.get("Action", []))
        for action in actions:
            if "*" in action:
                yield f"wildcard action {action!r}"
        for resource in _as_list(statement.get("Resource", [])):
            if isinstance(resource, str) and "*" in resource:
                resourceless = resource == "*" and set(actions) <= RESOURCELESS_ACTIONS
                if not resourceless and not LOG_STREAMS_OF_ONE_GROUP.fullmatch(resource):
                    yield f"wildcard resource {resource!r}"


def _listener_secure(props: Props, config: Mapping[str, Any]) -> Iterator[str]:
    protocol = props.get("protocol")
    if protocol == "HTTPS":
        if props.get("sslPolicy") not in MODERN_TLS_POLICIES:
            yield f"HTTPS listeners must use one of {sorted(MODERN_TLS_POLICIES)}"
        return
    if protocol != "HTTP" or config.get("allowPlainHttp"):
        return
    actions = props.get("defaultActions") or []
    redirects = [
        action
        for action in actions
        if action.get("type") == "redirect"
        and (action.get("redirect") or {}).get("protocol") == "HTTPS"
    ]
    if not actions or len(redirects) != len(actions):
        yield "HTTP listeners must only redirect to HTTPS"


def _registry_safe(props: Props, _: Mapping[str, Any]) -> Iterator[str]:
    if props.get("imageTagMutability") != "IMMUTABLE":
        yield "ECR repositories must have immutable tags"
    if not (props.get("imageScanningConfiguration") or {}).get("scanOnPush"):
        yield "ECR repositories must scan images on push"


GUARDRAILS = (
    Guardrail(
        "required-tags",
        "Taggable resources carry Project, Environment and ManagedBy tags.",
        frozenset(),
        _required_tags,
    ),
    Guardrail(
        "dynamodb-encrypted-with-customer-key",
        "DynamoDB tables are encrypted with a customer-managed KMS key.",
        frozenset({"aws:dynamodb/table:Table"}),
        _table_encrypted,
    ),
    Guardrail(
        "dynamodb-point-in-time-recovery",
        "DynamoDB tables have point-in-time recovery.",
        frozenset({"aws:dynamodb/table:Table"}),
        _table_recoverable,
    ),
    Guardrail(
        "kms-key-rotation",
        "KMS keys rotate automatically.",
        frozenset({"aws:kms/key:Key"}),
        _key_rotated,
    ),
    Guardrail(
        "ecs-no-public-ip",
        "ECS tasks get no public IP address.",
        frozenset({"aws:ecs/service:Service"}),
        _no_public_ip,
    ),
    Guardrail(
        "iam-inline-policy-no-wildcards",
        "Inline role policies name exact actions and resources (but for the streams of one named "
        "log group, and '*' for actions that have no resource type).",
        frozenset({"aws:iam/rolePolicy:RolePolicy"}),
        _no_wildcards,
    ),
    Guardrail(
        "alb-listener-https",
        "Listeners serve HTTPS with a modern TLS policy; HTTP only redirects to HTTPS.",
        frozenset({"aws:lb/listener:Listener", "aws:alb/listener:Listener"}),
        _listener_secure,
        config={
            "allowPlainHttp": {
                "type": "boolean",
                "default": False,
                "description": "Allow plain HTTP listeners (a stack without a domain, e.g. dev).",
            }
        },
    ),
    Guardrail(
        "ecr-immutable-and-scanned",
        "ECR repositories have immutable tags and scan on push.",
        frozenset({"aws:ecr/repository:Repository"}),
        _registry_safe,
    ),
)
