"""Every document the program generates, checked offline against what AWS accepts: IAM policies
with parliament, task definitions with botocore's own ECS model, the dashboard body with the
structure CloudWatch documents."""

import json
from collections.abc import Callable
from typing import Any

import botocore.session
import jsonschema
import parliament
import pytest
from botocore.validate import ParamValidator
from stack_builds import COMPUTE_STACKS, STACKS, StackBuild

Build = Callable[[str], StackBuild]
# parliament reads every document as an identity policy, so a trust policy (whose resource is the
# role itself) has no Resource: the finding the comment beside service_trust's statement
# (platform/access.py) explains. Nothing else is accepted.
TRUST_POLICY_FINDINGS = [("MALFORMED", "Statement contains neither Resource nor NotResource")]
# parliament flags every grant of a registry token; the execution role needs one to pull the
# image (the comment beside the RegistryLogin statement in platform/access.py).
REGISTRY_LOGIN_FINDINGS = [("CREDENTIALS_EXPOSURE", "")]


def justified_findings(kind: str, document: str) -> list[tuple[str, Any]]:
    if kind == "trust":
        return TRUST_POLICY_FINDINGS
    actions = {
        action for statement in json.loads(document)["Statement"] for action in statement["Action"]
    }
    return REGISTRY_LOGIN_FINDINGS if "ecr:GetAuthorizationToken" in actions else []


def findings(document: str) -> list[tuple[str, Any]]:
    policy = parliament.analyze_policy_string(document, include_community_auditors=True)
    return [(finding.issue, finding.detail) for finding in policy.findings]


def iam_documents(build: StackBuild) -> dict[str, tuple[str, str]]:
    """Every policy document by the URN of its resource: (kind, document)."""
    documents = {
        policy.urn: ("policy", policy.inputs["policy"])
        for policy in build.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    documents |= {
        role.urn: ("trust", role.inputs["assumeRolePolicy"])
        for role in build.of_type("aws:iam/role:Role")
    }
    return documents


@pytest.mark.parametrize("stack", STACKS)
def test_iam_policies_and_trust_policies_pass_parliament(built: Build, stack: str) -> None:
    documents = iam_documents(built(stack))
    assert {kind for kind, _ in documents.values()} == {"policy", "trust"}
    for urn, (kind, document) in documents.items():
        assert findings(document) == justified_findings(kind, document), urn


def test_parliament_finds_what_this_test_guards_against() -> None:
    """The check above is live: a resource wildcard and a resource of the wrong type are found."""
    wildcard = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
    mismatch = {
        "Effect": "Allow",
        "Action": "dynamodb:GetItem",
        "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:x",
    }
    for statement, issue in ((wildcard, "RESOURCE_STAR"), (mismatch, "RESOURCE_MISMATCH")):
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        assert issue in [found for found, _ in findings(document)]


# --- task definitions -------------------------------------------------------------------------

REGISTER_TASK_DEFINITION = (
    botocore.session.get_session()
    .get_service_model("ecs")
    .operation_model("RegisterTaskDefinition")
    .input_shape
)


def register_request(build: StackBuild) -> dict[str, Any]:
    """The RegisterTaskDefinition request the provider sends for the stack's task definition."""
    inputs = build.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    return {
        "family": inputs["family"],
        "taskRoleArn": inputs["taskRoleArn"],
        "executionRoleArn": inputs["executionRoleArn"],
        "networkMode": inputs["networkMode"],
        "containerDefinitions": json.loads(inputs["containerDefinitions"]),
        "volumes": inputs["volumes"],
        "requiresCompatibilities": inputs["requiresCompatibilities"],
        "cpu": inputs["cpu"],
        "memory": inputs["memory"],
        "runtimePlatform": inputs["runtimePlatform"],
    }


def validation_errors(request: dict[str, Any]) -> str:
    assert REGISTER_TASK_DEFINITION is not None
    report = ParamValidator().validate(request, REGISTER_TASK_DEFINITION)
    return str(report.generate_report()) if report.has_errors() else ""


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_task_definitions_match_the_ecs_api_model(built: Build, stack: str) -> None:
    assert validation_errors(register_request(built(stack))) == ""


def test_the_ecs_model_rejects_a_misspelt_or_mistyped_container_field(built: Build) -> None:
    request = register_request(built("dev"))
    app = request["containerDefinitions"][0]
    app["readOnlyRootFilesystem"] = app.pop("readonlyRootFilesystem")
    assert "Unknown parameter" in validation_errors(request)
    app["readonlyRootFilesystem"] = app.pop("readOnlyRootFilesystem")
    app["cpu"] = str(app["cpu"])
    assert "Invalid type" in validation_errors(request)


# --- dashboard --------------------------------------------------------------------------------

# The dashboard body's structure, from "Dashboard Body Structure and Syntax" in the Amazon
# CloudWatch API reference (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/
# CloudWatch-Dashboard-Body-Structure.html): the body's keys, the widget object, and the metric
# widget's properties with its metrics array (namespace, name, dimension name/value pairs, then
# an optional rendering object; or a single object holding an expression). The parts this
# program does not use are left open only where the page lists them.
METRIC_OPTIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "accountId": {"type": "string"},
        "color": {"type": "string"},
        "expression": {"type": "string"},
        "id": {"type": "string", "pattern": "^[a-z][A-Za-z0-9_]*$"},
        "label": {"type": "string"},
        "period": {"type": "integer", "minimum": 1},
        "region": {"type": "string"},
        "stat": {"type": "string"},
        "visible": {"type": "boolean"},
        "yAxis": {"enum": ["left", "right"]},
    },
}
METRIC = {
    "type": "array",
    "minItems": 1,
    "oneOf": [
        {  # [namespace, name, dimension name, value, ..., options?]
            "prefixItems": [{"type": "string"}, {"type": "string"}],
            "items": {"anyOf": [{"type": "string"}, METRIC_OPTIONS]},
            "minItems": 2,
        },
        {"prefixItems": [{**METRIC_OPTIONS, "required": ["expression"]}], "maxItems": 1},
    ],
}
DASHBOARD_BODY = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["widgets"],
    "properties": {
        "start": {"type": "string"},
        "end": {"type": "string"},
        "periodOverride": {"enum": ["auto", "inherit"]},
        "variables": {"type": "array"},
        "widgets": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "properties"],
                "properties": {
                    "type": {"enum": ["alarm", "explorer", "log", "metric", "text", "custom"]},
                    "x": {"type": "integer", "minimum": 0, "maximum": 23},
                    "y": {"type": "integer", "minimum": 0},
                    "width": {"type": "integer", "minimum": 1, "maximum": 24},
                    "height": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "properties": {"type": "object"},
                },
                "if": {"properties": {"type": {"const": "metric"}}},
                "then": {
                    "properties": {
                        "properties": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["region", "metrics"],
                            "properties": {
                                "accountId": {"type": "string"},
                                "annotations": {"type": "object"},
                                "liveData": {"type": "boolean"},
                                "legend": {"type": "object"},
                                "metrics": {"type": "array", "minItems": 1, "items": METRIC},
                                "period": {"type": "integer", "minimum": 1},
                                "region": {"type": "string", "minLength": 1},
                                "setPeriodToTimeRange": {"type": "boolean"},
                                "sparkline": {"type": "boolean"},
                                "stacked": {"type": "boolean"},
                                "stat": {"type": "string"},
                                "title": {"type": "string"},
                                "view": {
                                    "enum": ["timeSeries", "singleValue", "gauge", "bar", "pie"]
                                },
                                "yAxis": {"type": "object"},
                            },
                        }
                    }
                },
            },
        },
    },
}


def dashboard_body(build: StackBuild) -> dict[str, Any]:
    body = json.loads(build.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_dashboard_body_has_the_structure_cloudwatch_documents(built: Build, stack: str) -> None:
    jsonschema.Draft202012Validator.check_schema(DASHBOARD_BODY)
    jsonschema.validate(dashboard_body(built(stack)), DASHBOARD_BODY)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda body: body["widgets"][0]["properties"].pop("region"),
        lambda body: body["widgets"][0]["properties"].update(metric=[]),
        lambda body: body["widgets"][0]["properties"]["metrics"][0].insert(0, 42),
        lambda body: body["widgets"][0].update(width=25),
    ],
    ids=["no region", "misspelt key", "metric not a string", "wider than the grid"],
)
def test_the_dashboard_schema_rejects_what_cloudwatch_would(
    built: Build, breakage: Callable[[dict[str, Any]], object]
) -> None:
    body = dashboard_body(built("dev"))
    breakage(body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, DASHBOARD_BODY)
