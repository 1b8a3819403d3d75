"""Invariants of every stack, asserted on what the real program registers from real config."""

import ast
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import policy_checks
import pytest
import yaml
from fargate_service import deployment_timeout
from guardrails import GUARDRAILS
from stack_builds import (
    COMPUTE_STACKS,
    PROGRAM,
    PROJECT,
    ROOT,
    STACKS,
    Registration,
    StackBuild,
    build_stack,
    stack_config,
)

from hello_birthday.ports import API_PORT, METRICS_PORT
from hello_birthday.serving import OTHER_OPEN_FILES
from hello_birthday.settings import Settings
from hello_birthday.store.schema import ATTRIBUTE_DEFINITIONS, PARTITION_KEY

Build = Callable[[str], StackBuild]
POLICY_CONFIG = {"dev": PROGRAM / "policy" / "policy-config.dev.json"}
# docs/runbook.md, "Alarms": every one of them exists in every cloud stack.
RUNBOOK_ALARMS = (
    "5xx-rate",
    "p99-latency",
    "unhealthy-hosts",
    "dynamodb-errors",
    "store-errors",
    "running-tasks",
)
DEPLOYMENT_ALARMS = ("5xx-rate", "p99-latency")
# Every stack file in environments/, including any added after STACKS was written.
STACK_FILES = sorted(
    path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    for path in (ROOT / "environments").glob("Pulumi.*.yaml")
)
# AWS caps load balancer and target group names at 32 characters; pulumi-aws auto-names them
# <logical name>-<7 random characters>.
LB_NAME_LIMIT = 32
AUTONAME_SUFFIX = len("-abcdefg")
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"


def setting(stack: str, key: str) -> str:
    """A configuration value as the program receives it (non-strings JSON-encoded)."""
    return stack_config(stack)[f"{PROJECT}:{key}"]


def config_value(stack: str, key: str) -> Any:
    return json.loads(setting(stack, key))


def containers(build: StackBuild) -> dict[str, dict[str, Any]]:
    """The task's container definitions by name."""
    definitions = json.loads(
        build.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"]
    )
    return {definition["name"]: definition for definition in definitions}


def container(build: StackBuild, name: str = "app") -> dict[str, Any]:
    return containers(build)[name]


def environment(build: StackBuild, name: str = "app") -> dict[str, str]:
    return {item["name"]: item["value"] for item in container(build, name)["environment"]}


def log_group(build: StackBuild, name: str) -> Registration:
    """The log group named `/ecs/hello-birthday-<stack><name>`."""
    (group,) = [
        group
        for group in build.of_type("aws:cloudwatch/logGroup:LogGroup")
        if group.inputs["name"] == f"/ecs/{PROJECT}-{build.stack}{name}"
    ]
    return group


def named(build: StackBuild, type_: str, suffix: str) -> Registration:
    (resource,) = [r for r in build.of_type(type_) if r.name.endswith(suffix)]
    return resource


def mock_id(resource: Registration) -> str:
    return f"{resource.name}-id"


def mock_arn_suffix(resource: Registration) -> str:
    """The CloudWatch dimension value the mocks give a load balancer or target group."""
    kind = {
        "aws:lb/loadBalancer:LoadBalancer": "app",
        "aws:lb/targetGroup:TargetGroup": "targetgroup",
    }
    return f"{kind[resource.type]}/{resource.name}/0123456789abcdef"


def alarms(build: StackBuild) -> dict[str, dict[str, Any]]:
    """Every alarm's inputs by its name without the `hello-birthday-<stack>-` prefix."""
    prefix = f"{PROJECT}-{build.stack}-"
    return {
        alarm.inputs["name"].removeprefix(prefix): alarm.inputs
        for alarm in build.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }


def alarm_metrics(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The metrics of a metric-math alarm by query id, after checking that the one expression
    it compares with the threshold uses every one of them."""
    queries = alarm["metricQueries"]
    metrics = {query["id"]: query["metric"] for query in queries if "metric" in query}
    (returned,) = [query for query in queries if query.get("returnData")]
    assert all(query_id in returned["expression"] for query_id in metrics)
    return metrics


# --- every stack -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_gets_the_stack_tags_from_one_provider(built: Build, stack: str) -> None:
    build = built(stack)
    provider = build.one("pulumi:providers:aws")
    # Provider configuration reaches the engine JSON-encoded.
    assert json.loads(provider.inputs["defaultTags"])["tags"] == {
        "Project": PROJECT,
        "Environment": stack,
        "ManagedBy": "pulumi",
    }
    aws_resources = [r for r in build.resources if r.type.startswith("aws:")]
    assert aws_resources
    for resource in aws_resources:
        assert resource.provider.startswith(provider.urn + "::"), resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_resources_live_inside_components(built: Build, stack: str) -> None:
    for resource in built(stack).resources:
        if resource.type.startswith("aws:"):
            parent_type = resource.parent.split("::")[2].split("$")[-1]
            assert parent_type.startswith("hello-birthday:platform:"), resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_components_keep_the_types_in_their_resources_urns(built: Build, stack: str) -> None:
    """A component's type is part of each child's URN: a new one, even for a renamed class,
    would make Pulumi replace every resource under it."""
    components = {resource.type for resource in built(stack).resources if not resource.custom}
    expected = {"Data", "TaskAccess", "Alerts"}
    if config_value(stack, "compute"):
        expected |= {"Registry", "Network", "Edge", "Observability", "Service", "Scaling"}
    assert components == {f"{PROJECT}:platform:{component}" for component in expected}


@pytest.mark.parametrize("stack", STACKS)
def test_data_and_the_running_service_keep_their_urns(built: Build, stack: str) -> None:
    """Replacing these loses stored birthdays, images or logs, or stops the service."""
    urns = {resource.urn for resource in built(stack).resources}
    kept = [
        ("Data", "aws:dynamodb/table:Table", "table"),
        ("Data", "aws:kms/key:Key", "key"),
        ("TaskAccess", "aws:cloudwatch/logGroup:LogGroup", "logs"),
    ]
    if config_value(stack, "compute"):
        kept += [
            ("Registry", "aws:ecr/repository:Repository", "repository"),
            ("Service", "aws:ecs/cluster:Cluster", "cluster"),
            ("Service", "aws:ecs/service:Service", "service"),
        ]
    for component, type_, suffix in kept:
        urn = (
            f"urn:pulumi:{stack}::{PROJECT}::{PROJECT}:platform:{component}${type_}"
            f"::{PROJECT}-{stack}-{suffix}"
        )
        assert urn in urns


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_passes_the_policy_pack(built: Build, stack: str) -> None:
    config_file = POLICY_CONFIG.get(stack)
    pack_config = json.loads(Path(config_file).read_text()) if config_file else {}
    violations = [
        f"{resource.urn}: {message}"
        for resource in built(stack).resources
        for guardrail in GUARDRAILS
        for message in policy_checks.violations(
            guardrail, resource.type, resource.inputs, pack_config.get(guardrail.name, {})
        )
    ]
    assert violations == []


@pytest.mark.parametrize("stack", STACKS)
def test_table_uses_the_service_key_schema_on_demand_with_recovery_and_a_rotating_key(
    built: Build, stack: str
) -> None:
    build = built(stack)
    table = build.one("aws:dynamodb/table:Table").inputs
    key = build.one("aws:kms/key:Key")
    assert table["hashKey"] == PARTITION_KEY
    assert table["attributes"] == [
        {"name": a["AttributeName"], "type": a["AttributeType"]} for a in ATTRIBUTE_DEFINITIONS
    ]
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key.arn}
    assert key.inputs["enableKeyRotation"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_data_is_protected_exactly_where_the_environment_says(built: Build, stack: str) -> None:
    build = built(stack)
    protect = config_value(stack, "protectData")
    assert protect is (stack == "prod")  # the data files say so; the code never asks
    for resource in (build.one("aws:dynamodb/table:Table"), build.one("aws:kms/key:Key")):
        assert resource.protect is protect
        assert resource.retain_on_delete is protect
    assert build.one("aws:dynamodb/table:Table").inputs["deletionProtectionEnabled"] is protect


@pytest.mark.parametrize("stack", STACKS)
def test_task_role_may_only_use_its_table_and_write_its_metrics(built: Build, stack: str) -> None:
    build = built(stack)
    task_policy = named(build, "aws:iam/rolePolicy:RolePolicy", "-task")
    assert task_policy.inputs["role"] == mock_id(named(build, "aws:iam/role:Role", "-task"))
    statements = json.loads(task_policy.inputs["policy"])["Statement"]
    table_arn = build.one("aws:dynamodb/table:Table").arn
    key_arn = build.one("aws:kms/key:Key").arn
    metrics_arn = log_group(build, "/metrics").arn
    by_resource = {statement["Resource"]: statement for statement in statements}
    assert set(by_resource) == {table_arn, key_arn, f"{metrics_arn}:log-stream:*"}
    assert sorted(by_resource[table_arn]["Action"]) == [
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    ]
    assert all(action.startswith("kms:") for action in by_resource[key_arn]["Action"])
    assert by_resource[key_arn]["Condition"]["StringEquals"]["kms:ViaService"].startswith(
        "dynamodb."
    )
    # What the collector's awsemf exporter calls on a log group that exists, and nothing more.
    assert by_resource[f"{metrics_arn}:log-stream:*"]["Action"] == [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert not any("*" in action for action in statement["Action"])
    # The task role has nothing else attached.
    task_role_urn = named(build, "aws:iam/role:Role", "-task").urn
    attachments = build.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert all(a.inputs["role"] != task_role_urn.rsplit("::", 1)[1] for a in attachments)


@pytest.mark.parametrize("stack", STACKS)
def test_logs_are_kept_as_long_as_the_environment_says(built: Build, stack: str) -> None:
    groups = built(stack).of_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) == 2  # the service's logs, the collector's metrics
    for group in groups:
        assert group.inputs["retentionInDays"] == config_value(stack, "logRetentionDays")


# --- local --------------------------------------------------------------------------------


def test_local_builds_only_what_localstack_community_emulates(built: Build) -> None:
    build = built("local")
    services = {r.type.split(":")[1].split("/")[0] for r in build.resources if r.custom}
    assert services == {"providers", "dynamodb", "kms", "iam", "cloudwatch", "sns"}
    assert "aws:cloudwatch/metricAlarm:MetricAlarm" not in build.types()
    assert set(build.outputs) == {"table_name", "alarm_topic_arn"}


def test_local_provider_talks_to_localstack(built: Build) -> None:
    provider = built("local").one("pulumi:providers:aws").inputs
    (endpoints,) = json.loads(provider["endpoints"])
    assert set(endpoints.values()) == {"http://localhost:4566"}
    assert {"dynamodb", "iam", "kms", "logs", "sns", "sts"} <= set(endpoints)
    for flag in ("skipCredentialsValidation", "skipRequestingAccountId", "skipMetadataApiCheck"):
        assert provider[flag] == "true"


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_cloud_stacks_use_the_default_aws_endpoints(built: Build, stack: str) -> None:
    assert "endpoints" not in built(stack).one("pulumi:providers:aws").inputs


# --- cloud stacks ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_stack_outputs(built: Build, stack: str) -> None:
    outputs = built(stack).outputs
    assert {
        "url",
        "table_name",
        "cluster_name",
        "service_name",
        "container_name",
        "repository_url",
    } <= set(outputs)
    assert outputs["table_name"] == f"{PROJECT}-{stack}"
    assert outputs["cluster_name"] == f"{PROJECT}-{stack}"
    assert outputs["service_name"] == PROJECT
    # The deploy program checks the image of the task definition's container of that name.
    task_definition = built(stack).one("aws:ecs/taskDefinition:TaskDefinition")
    definitions = json.loads(task_definition.inputs["containerDefinitions"])
    assert [d["name"] for d in definitions].count(outputs["container_name"]) == 1
    assert outputs["repository_url"].endswith(f".amazonaws.com/{PROJECT}-{stack}")
    domain = setting(stack, "domain")
    if domain:
        assert outputs["url"] == f"https://{domain}"
    else:
        balancer = built(stack).one("aws:lb/loadBalancer:LoadBalancer")
        assert outputs["url"] == f"http://{balancer.name}.eu-west-1.elb.amazonaws.com"


@pytest.mark.parametrize("stack", STACK_FILES)
def test_load_balancer_and_target_group_names_fit_aws_limit(built: Build, stack: str) -> None:
    build = built(stack)
    named_by_aws = [
        *build.of_type("aws:lb/loadBalancer:LoadBalancer"),
        *build.of_type("aws:lb/targetGroup:TargetGroup"),
    ]
    assert bool(named_by_aws) is config_value(stack, "compute")
    for resource in named_by_aws:
        name = resource.inputs.get("name")
        length = len(name) if name else len(resource.name) + AUTONAME_SUFFIX
        assert length <= LB_NAME_LIMIT, resource.urn


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_network_spans_the_configured_zones_with_nat_per_environment(
    built: Build, stack: str
) -> None:
    build = built(stack)
    zones = config_value(stack, "azCount")
    subnets = build.of_type("aws:ec2/subnet:Subnet")
    assert len([s for s in subnets if "-private-" in s.name]) == zones
    assert len([s for s in subnets if "-public-" in s.name]) == zones
    assert {s.inputs["availabilityZone"] for s in subnets} == {
        f"eu-west-1{zone}" for zone in "abc"[:zones]
    }
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    nats = build.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == config_value(stack, "natGateways")
    assert len(nats) == (zones if stack == "prod" else 1)
    endpoint = build.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs
    assert endpoint["serviceName"] == "com.amazonaws.eu-west-1.dynamodb"
    assert endpoint["vpcEndpointType"] == "Gateway"
    assert len(endpoint["routeTableIds"]) == zones


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_tasks_are_private_and_reachable_only_from_the_load_balancer(
    built: Build, stack: str
) -> None:
    build = built(stack)
    tasks_group = named(build, "aws:ec2/securityGroup:SecurityGroup", "-tasks")
    alb_group = named(build, "aws:ec2/securityGroup:SecurityGroup", "-alb")
    ingress = [
        rule
        for rule in build.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if rule.inputs["securityGroupId"] == mock_id(tasks_group)
    ]
    assert [rule.inputs for rule in ingress] == [
        {
            "securityGroupId": mock_id(tasks_group),
            "referencedSecurityGroupId": mock_id(alb_group),
            "ipProtocol": "tcp",
            "fromPort": 8000,
            "toPort": 8000,
        }
    ]
    network = build.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert network["securityGroups"] == [mock_id(tasks_group)]
    private = {mock_id(s) for s in build.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name}
    assert set(network["subnets"]) == private


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_https_and_waf_where_configured(built: Build, stack: str) -> None:
    build = built(stack)
    listeners = {r.inputs["port"]: r.inputs for r in build.of_type("aws:lb/listener:Listener")}
    public_ingress = {
        r.inputs["fromPort"]
        for r in build.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("cidrIpv4") == "0.0.0.0/0"
    }
    if setting(stack, "domain"):
        assert listeners[443]["protocol"] == "HTTPS"
        assert listeners[443]["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        assert listeners[443]["certificateArn"]
        (redirect,) = listeners[80]["defaultActions"]
        assert redirect["redirect"]["protocol"] == "HTTPS"
        assert public_ingress == {80, 443}
        alias = named(build, "aws:route53/record:Record", "-alias").inputs
        assert alias["name"] == setting(stack, "domain")
    else:
        assert listeners[80]["protocol"] == "HTTP"
        assert 443 not in listeners
        assert public_ingress == {80}
    acls = build.of_type("aws:wafv2/webAcl:WebAcl")
    if not config_value(stack, "waf"):
        assert acls == []
        return
    (acl,) = acls
    rules = {rule["name"]: rule for rule in acl.inputs["rules"]}
    assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["limit"] == (
        config_value(stack, "wafRateLimit")
    )
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}
    for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        statement = rules[group]["statement"]["managedRuleGroupStatement"]
        assert statement == {"name": group, "vendorName": "AWS"}
    association = build.one("aws:wafv2/webAclAssociation:WebAclAssociation").inputs
    assert association["webAclArn"] == acl.arn
    assert association["resourceArn"] == build.one("aws:lb/loadBalancer:LoadBalancer").arn


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_health_checks_use_liveness_so_a_store_outage_keeps_tasks_in_service(
    built: Build, stack: str
) -> None:
    build = built(stack)
    for group in build.of_type("aws:lb/targetGroup:TargetGroup"):
        assert group.inputs["healthCheck"]["path"] == "/healthz"
        assert group.inputs["targetType"] == "ip"
        assert group.inputs["port"] == 8000
    assert "/healthz" in " ".join(container(build)["healthCheck"]["command"])


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_task_runs_non_root_read_only_against_the_table(built: Build, stack: str) -> None:
    build = built(stack)
    app = container(build)
    assert app["readonlyRootFilesystem"] is True
    assert app["user"].split(":")[0] not in ("", "0", "root")
    assert environment(build)["HELLO_STORE"] == f"dynamodb://{PROJECT}-{stack}"
    assert environment(build)["AWS_REGION"] == "eu-west-1"
    assert (
        app["logConfiguration"]["options"]["awslogs-group"] == log_group(build, "").inputs["name"]
    )
    definition = build.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    assert definition["taskRoleArn"] != definition["executionRoleArn"]
    assert definition["networkMode"] == "awsvpc"


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_draining_finishes_before_the_task_is_killed(built: Build, stack: str) -> None:
    build = built(stack)
    stop_timeout = container(build)["stopTimeout"]
    for group in build.of_type("aws:lb/targetGroup:TargetGroup"):
        assert group.inputs["deregistrationDelay"] < stop_timeout
    assert int(environment(build)["HELLO_SHUTDOWN_TIMEOUT"]) < stop_timeout


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_every_deployment_is_guarded_and_fails_pulumi_up_on_rollback(
    built: Build, stack: str
) -> None:
    build = built(stack)
    service = build.one("aws:ecs/service:Service")
    inputs = service.inputs
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert inputs["deploymentMinimumHealthyPercent"] == 100
    assert inputs["healthCheckGracePeriodSeconds"] > 0
    assert inputs["waitForSteadyState"] is True
    assert inputs["alarms"]["enable"] is True
    assert inputs["alarms"]["rollback"] is True
    # Only the user-facing symptoms roll back; the other alarms page but never roll back.
    assert inputs["alarms"]["alarmNames"] == [
        f"{PROJECT}-{stack}-{name}" for name in DEPLOYMENT_ALARMS
    ]
    assert set(DEPLOYMENT_ALARMS) <= set(alarms(build))
    assert "desiredCount" in service.ignore_changes  # autoscaling owns it


@pytest.mark.parametrize(("bake_time_minutes", "timeout"), [(0, "20m"), (5, "25m"), (15, "35m")])
def test_deployment_timeout_is_the_bake_time_plus_the_providers_default(
    bake_time_minutes: int, timeout: str
) -> None:
    assert deployment_timeout(bake_time_minutes) == timeout


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_pulumi_up_waits_for_the_deployment_through_its_bake_time(built: Build, stack: str) -> None:
    service = built(stack).one("aws:ecs/service:Service")
    timeout = deployment_timeout(config_value(stack, "bakeTimeMinutes"))
    assert service.custom_timeouts == {"create": timeout, "update": timeout}


def test_prod_deploys_blue_green_with_bake_time_test_listener_and_alarm_rollback(
    built: Build,
) -> None:
    build = built("prod")
    service = build.one("aws:ecs/service:Service").inputs
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert int(service["deploymentConfiguration"]["bakeTimeInMinutes"]) >= 10
    (load_balancer,) = service["loadBalancers"]
    advanced = load_balancer["advancedConfiguration"]
    groups = {g.arn: g for g in build.of_type("aws:lb/targetGroup:TargetGroup")}
    assert {load_balancer["targetGroupArn"], advanced["alternateTargetGroupArn"]} == set(groups)
    rules = {r.name.rsplit("-", 1)[1]: r for r in build.of_type(LISTENER_RULE)}
    assert advanced["productionListenerRule"] == rules["production"].arn
    assert advanced["testListenerRule"] == rules["test"].arn
    assert advanced["roleArn"] == named(build, "aws:iam/role:Role", "-ecs-load-balancers").arn
    for purpose in ("production", "test"):
        assert "actions" in rules[purpose].ignore_changes  # ECS moves the weights


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_metrics_port_is_reachable_only_inside_the_task(built: Build, stack: str) -> None:
    build = built(stack)
    for definition in containers(build).values():
        mapped = {mapping["containerPort"] for mapping in definition.get("portMappings", [])}
        assert METRICS_PORT not in mapped
    assert container(build)["portMappings"] == [{"containerPort": API_PORT, "protocol": "tcp"}]
    rules = [
        *build.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
        *build.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
    ]
    assert all(
        METRICS_PORT not in (r.inputs.get("fromPort"), r.inputs.get("toPort")) for r in rules
    )
    for group in build.of_type("aws:lb/targetGroup:TargetGroup"):
        assert group.inputs["port"] == API_PORT


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_listeners_that_carry_traffic_only_forward(built: Build, stack: str) -> None:
    build = built(stack)
    actions = [
        (listener.name, action)
        for listener in build.of_type("aws:lb/listener:Listener")
        for action in listener.inputs["defaultActions"]
        if action["type"] != "redirect"  # port 80 of an HTTPS stack: no target group behind it
    ] + [
        (rule.name, action)
        for rule in build.of_type(LISTENER_RULE)
        for action in rule.inputs["actions"]
    ]
    groups = {group.arn for group in build.of_type("aws:lb/targetGroup:TargetGroup")}
    assert actions
    for owner, action in actions:
        assert action["type"] == "forward", owner
        targets = (
            {target["arn"] for target in action["forward"]["targetGroups"]}
            if "forward" in action
            else {action["targetGroupArn"]}
        )
        assert targets <= groups, owner
    # One forwarding rule per listener takes every path; ECS re-weights it under blue/green.
    for rule in build.of_type(LISTENER_RULE):
        assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}]


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_blue_green_leaves_the_live_target_group_to_ecs(built: Build, stack: str) -> None:
    service = built(stack).one("aws:ecs/service:Service")
    blue_green = setting(stack, "deploymentStrategy") == "BLUE_GREEN"
    assert ("loadBalancers" in service.ignore_changes) is blue_green
    assert "advancedConfiguration" in service.inputs["loadBalancers"][0] or not blue_green


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_bake_time_is_sent_with_blue_green_only(built: Build, stack: str) -> None:
    deployment = built(stack).one("aws:ecs/service:Service").inputs["deploymentConfiguration"]
    if setting(stack, "deploymentStrategy") == "BLUE_GREEN":
        assert deployment["bakeTimeInMinutes"] == setting(stack, "bakeTimeMinutes")
    else:
        assert deployment == {"strategy": "ROLLING"}


def role_policies(build: StackBuild, role: Registration) -> set[str]:
    """The URNs of every inline policy and attachment of a role."""
    return {
        policy.urn
        for policy in [
            *build.of_type("aws:iam/rolePolicy:RolePolicy"),
            *build.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
        ]
        if policy.inputs["role"] in (mock_id(role), role.name)
    }


def roles_by_arn(build: StackBuild) -> dict[str, Registration]:
    return {role.arn: role for role in build.of_type("aws:iam/role:Role")}


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_tasks_start_only_once_their_roles_have_every_policy(built: Build, stack: str) -> None:
    build = built(stack)
    roles = roles_by_arn(build)
    definition = build.one("aws:ecs/taskDefinition:TaskDefinition")
    service = build.one("aws:ecs/service:Service")
    task_roles = [roles[definition.inputs[key]] for key in ("taskRoleArn", "executionRoleArn")]
    service_roles = [*task_roles]
    for load_balancer in service.inputs["loadBalancers"]:
        if "advancedConfiguration" in load_balancer:
            service_roles.append(roles[load_balancer["advancedConfiguration"]["roleArn"]])
    assert len(service_roles) == (3 if setting(stack, "deploymentStrategy") == "BLUE_GREEN" else 2)
    for resource, used in ((definition, task_roles), (service, service_roles)):
        for role in used:
            policies = role_policies(build, role)
            assert policies, role.name
            assert policies <= set(resource.dependencies), (resource.name, role.name)


@pytest.mark.parametrize("stack", STACKS)
def test_only_this_accounts_ecs_may_assume_the_roles(built: Build, stack: str) -> None:
    build = built(stack)
    account, region = setting(stack, "accountId"), setting(stack, "region")
    roles = build.of_type("aws:iam/role:Role")
    assert len(roles) == (3 if setting(stack, "deploymentStrategy") == "BLUE_GREEN" else 2)
    for role in roles:
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRole"
        condition = statement["Condition"]
        assert condition["StringEquals"] == {"aws:SourceAccount": account}, role.name
        if statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}:
            expected = f"arn:aws:ecs:{region}:{account}:*"
            assert condition["ArnLike"] == {"aws:SourceArn": expected}, role.name
        else:  # ECS itself, shifting blue/green traffic
            assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}, role.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_role_carries_the_stacks_permissions_boundary(built: Build, stack: str) -> None:
    """The bootstrap's boundary caps whatever policy a role is given; LocalStack has no
    bootstrap, and IAM refuses a boundary that does not exist."""
    roles = built(stack).of_type("aws:iam/role:Role")
    assert roles
    account = setting(stack, "accountId")
    expected = f"arn:aws:iam::{account}:policy/{PROJECT}-{stack}-boundary"
    for role in roles:
        boundary = role.inputs.get("permissionsBoundary")
        assert boundary == (None if setting(stack, "awsEndpoint") else expected), role.name


@pytest.mark.parametrize("stack", STACKS)
def test_execution_role_pulls_this_stacks_image_and_writes_its_logs_only(
    built: Build, stack: str
) -> None:
    build = built(stack)
    role = named(build, "aws:iam/role:Role", "-execution")
    attachments = build.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert all(a.inputs["role"] not in (role.name, mock_id(role)) for a in attachments)
    policy = named(build, "aws:iam/rolePolicy:RolePolicy", "-execution")
    assert policy.inputs["role"] == mock_id(role)
    logs = log_group(build, "").arn
    granted = {
        (action, resource)
        for statement in json.loads(policy.inputs["policy"])["Statement"]
        for action in statement["Action"]
        for resource in [statement["Resource"]]
    }
    streams = f"{logs}:log-stream:*"
    expected = {("logs:CreateLogStream", streams), ("logs:PutLogEvents", streams)}
    if config_value(stack, "compute"):
        repository_arn = build.one("aws:ecr/repository:Repository").arn
        expected |= {
            ("ecr:BatchCheckLayerAvailability", repository_arn),
            ("ecr:GetDownloadUrlForLayer", repository_arn),
            ("ecr:BatchGetImage", repository_arn),
            ("ecr:GetAuthorizationToken", "*"),  # no resource type: AWS accepts only "*"
        }
    assert granted == expected


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_service_may_hold_65536_open_files(built: Build, stack: str) -> None:
    assert container(built(stack))["ulimits"] == [
        {"name": "nofile", "softLimit": 65536, "hardLimit": 65536}
    ]


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_open_files_limit_covers_the_services_connection_limit(
    built: Build, stack: str
) -> None:
    """The service will not start when its connection limit and its own files need more open
    files than the task allows: the task's limit must cover what its settings ask for."""
    build = built(stack)
    settings = Settings.from_env(environment(build))
    (nofile,) = container(build)["ulimits"]
    assert nofile["softLimit"] >= settings.max_connections + OTHER_OPEN_FILES


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_collector_is_a_read_only_sidecar_reserved_inside_the_task_size(
    built: Build, stack: str
) -> None:
    build = built(stack)
    definition = build.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    app, collector = container(build), container(build, "collector")
    assert set(containers(build)) == {"app", "collector"}
    assert re.fullmatch(
        r"public\.ecr\.aws/aws-observability/aws-otel-collector:v[0-9.]+@sha256:[0-9a-f]{64}",
        collector["image"],
    )
    assert collector["essential"] is False
    assert app["essential"] is True
    assert collector["readonlyRootFilesystem"] is True
    assert "portMappings" not in collector
    # The task's size is what the stack configures; the collector's hard limit and the app's
    # reservation add up to it, so neither can take the other's share.
    assert (definition["cpu"], definition["memory"]) == (
        setting(stack, "cpu"),
        setting(stack, "memory"),
    )
    assert app["cpu"] + collector["cpu"] == int(definition["cpu"])
    assert app["memoryReservation"] + collector["memory"] == int(definition["memory"])
    assert "memory" not in app  # the service may use what the collector leaves
    app_logs, collector_logs = app["logConfiguration"], collector["logConfiguration"]
    assert collector_logs["logDriver"] == "awslogs"
    assert collector_logs["options"]["awslogs-group"] == app_logs["options"]["awslogs-group"]
    assert collector_logs["options"]["awslogs-stream-prefix"] == "collector"
    assert app_logs["options"]["awslogs-stream-prefix"] == "app"


def test_dev_rolls_without_a_second_target_group(built: Build) -> None:
    build = built("dev")
    service = build.one("aws:ecs/service:Service").inputs
    assert service["deploymentConfiguration"]["strategy"] == "ROLLING"
    assert "advancedConfiguration" not in service["loadBalancers"][0]
    assert len(build.of_type("aws:lb/targetGroup:TargetGroup")) == 1


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_autoscaling_tracks_cpu_and_requests_within_environment_bounds(
    built: Build, stack: str
) -> None:
    build = built(stack)
    target = build.one("aws:appautoscaling/target:Target").inputs
    assert target["minCapacity"] == config_value(stack, "minTasks")
    assert target["maxCapacity"] == config_value(stack, "maxTasks")
    assert target["resourceId"] == f"service/{PROJECT}-{stack}/{PROJECT}"
    policies = {
        policy.name.rsplit("-", 1)[1]: policy.inputs["targetTrackingScalingPolicyConfiguration"]
        for policy in build.of_type("aws:appautoscaling/policy:Policy")
    }
    assert set(policies) == {"cpu", "requests"}
    cpu = policies["cpu"]["predefinedMetricSpecification"]
    assert cpu == {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert policies["cpu"]["targetValue"] == config_value(stack, "cpuTargetPercent")
    assert policies["requests"]["targetValue"] == config_value(stack, "requestsPerTarget")


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_request_scaling_counts_the_whole_load_balancer_whichever_group_is_live(
    built: Build, stack: str
) -> None:
    build = built(stack)
    (requests,) = [
        policy.inputs["targetTrackingScalingPolicyConfiguration"]
        for policy in build.of_type("aws:appautoscaling/policy:Policy")
        if policy.name.endswith("-requests")
    ]
    assert "predefinedMetricSpecification" not in requests  # ALBRequestCountPerTarget: one group
    queries = {query["id"]: query for query in requests["customizedMetricSpecification"]["metrics"]}
    (returned,) = [query for query in queries.values() if query.get("returnData")]
    assert returned["expression"] == "requests / tasks"
    metrics = {
        query_id: query["metricStat"]
        for query_id, query in queries.items()
        if query is not returned
    }
    assert all(queries[query_id]["returnData"] is False for query_id in metrics)
    balancer = mock_arn_suffix(build.one("aws:lb/loadBalancer:LoadBalancer"))
    assert metrics == {
        "requests": {
            "metric": {
                "namespace": "AWS/ApplicationELB",
                "metricName": "RequestCount",
                "dimensions": [{"name": "LoadBalancer", "value": balancer}],
            },
            "stat": "Sum",
        },
        "tasks": {
            "metric": {
                "namespace": "ECS/ContainerInsights",
                "metricName": "RunningTaskCount",
                "dimensions": [
                    {"name": "ClusterName", "value": build.outputs["cluster_name"]},
                    {"name": "ServiceName", "value": build.outputs["service_name"]},
                ],
            },
            "stat": "Average",
        },
    }


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_runbook_alarms_notify_the_topic_on_alarm_and_recovery(
    built: Build, stack: str
) -> None:
    build = built(stack)
    topic_arn = build.one("aws:sns/topic:Topic").arn
    assert set(alarms(build)) == set(RUNBOOK_ALARMS)
    for alarm in alarms(build).values():
        assert alarm["alarmActions"] == [topic_arn]
        assert alarm["okActions"] == [topic_arn]
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"
    body = json.loads(build.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    titles = {widget["properties"]["title"] for widget in body["widgets"]}
    assert {"Requests", "Errors", "Tasks", "DynamoDB"} <= titles


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_deployment_rollback_alarms_keep_their_thresholds_and_evaluation(
    built: Build, stack: str
) -> None:
    found = alarms(built(stack))
    error_rate, latency = found["5xx-rate"], found["p99-latency"]
    assert error_rate["threshold"] == config_value(stack, "errorRatePercent")
    (rate,) = [query for query in error_rate["metricQueries"] if query.get("returnData")]
    assert rate["expression"] == "100 * (FILL(app5xx, 0) + FILL(lb5xx, 0)) / MAX([requests, 1])"
    assert latency["threshold"] == config_value(stack, "latencyP99Milliseconds") / 1000
    assert (latency["metricName"], latency["extendedStatistic"]) == ("TargetResponseTime", "p99")
    for alarm in (error_rate, latency):
        assert (alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (3, 2)
        assert alarm["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_unhealthy_hosts_alarm_watches_every_target_group_for_minutes(
    built: Build, stack: str
) -> None:
    build = built(stack)
    alarm = alarms(build)["unhealthy-hosts"]
    metrics = alarm_metrics(alarm).values()
    balancer = mock_arn_suffix(build.one("aws:lb/loadBalancer:LoadBalancer"))
    groups = build.of_type("aws:lb/targetGroup:TargetGroup")
    watched = sorted(metric["dimensions"]["TargetGroup"] for metric in metrics)
    assert watched == sorted(mock_arn_suffix(group) for group in groups)
    (primary,) = build.one("aws:ecs/service:Service").inputs["loadBalancers"]
    assert any(primary["targetGroupArn"] == g.arn for g in groups)
    for metric in metrics:
        assert (metric["namespace"], metric["metricName"]) == (
            "AWS/ApplicationELB",
            "UnHealthyHostCount",
        )
        assert metric["dimensions"]["LoadBalancer"] == balancer
    assert alarm["threshold"] == 0
    assert alarm["evaluationPeriods"] >= 3
    assert alarm["datapointsToAlarm"] == alarm["evaluationPeriods"]
    assert alarm["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_dynamodb_alarm_sums_throttles_and_system_errors_of_the_service_calls(
    built: Build, stack: str
) -> None:
    alarm = alarms(built(stack))["dynamodb-errors"]
    metrics = alarm_metrics(alarm).values()
    # DynamoDB reports both metrics per operation only: one series per call the service makes.
    assert sorted((m["metricName"], m["dimensions"]["Operation"]) for m in metrics) == [
        ("SystemErrors", "GetItem"),
        ("SystemErrors", "PutItem"),
        ("ThrottledRequests", "GetItem"),
        ("ThrottledRequests", "PutItem"),
    ]
    for metric in metrics:
        assert metric["namespace"] == "AWS/DynamoDB"
        assert metric["dimensions"]["TableName"] == f"{PROJECT}-{stack}"
        assert metric["stat"] == "Sum"
    assert alarm["threshold"] == 0
    assert alarm["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_running_tasks_alarm_compares_running_with_desired(built: Build, stack: str) -> None:
    build = built(stack)
    alarm = alarms(build)["running-tasks"]
    ids = {metric["metricName"]: query_id for query_id, metric in alarm_metrics(alarm).items()}
    assert set(ids) == {"RunningTaskCount", "DesiredTaskCount"}
    (returned,) = [query for query in alarm["metricQueries"] if query.get("returnData")]
    assert returned["expression"] == f"{ids['DesiredTaskCount']} - {ids['RunningTaskCount']}"
    for metric in alarm_metrics(alarm).values():
        assert metric["namespace"] == "ECS/ContainerInsights"
        assert metric["dimensions"] == {
            "ClusterName": build.outputs["cluster_name"],
            "ServiceName": build.outputs["service_name"],
        }
    # The metrics exist only with Container Insights on the cluster.
    cluster = build.one("aws:ecs/cluster:Cluster").inputs
    assert {"name": "containerInsights", "value": "enhanced"} in cluster["settings"]
    assert alarm["threshold"] == 0
    # Longer than a scale-out takes; silence from Container Insights is not health.
    assert alarm["datapointsToAlarm"] == alarm["evaluationPeriods"] >= 5
    assert alarm["treatMissingData"] == "breaching"


def load_gate_requests(load_test_args: str) -> int:
    """Requests one runner sends in the deploy workflow's load gate (users x rate x duration)."""
    locustfile = ast.parse((ROOT / "tests" / "load" / "locustfile.py").read_text())
    # Read, not imported: the platform's environment has no locust.
    (per_user_rps,) = [
        ast.literal_eval(node.value)
        for node in locustfile.body
        if isinstance(node, ast.Assign)
        and [ast.unparse(target) for target in node.targets] == ["PER_USER_RPS"]
    ]
    args = shlex.split(load_test_args)
    users = int(args[args.index("--users") + 1])
    duration = args[args.index("--duration") + 1]
    seconds = int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}[duration[-1]]
    return int(users * per_user_rps * seconds)


def test_waf_lets_the_deploy_workflows_load_gate_through() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    gates = {
        job["with"]["stack"]: job["with"]["load_test_args"]
        for job in workflow["jobs"].values()
        if "load_test_args" in job.get("with", {})
    }
    assert gates  # staging runs the load gate
    for stack, load_test_args in gates.items():
        if config_value(stack, "waf"):
            # The rate rule counts per client IP over 5 minutes; the gate runs well within that.
            assert config_value(stack, "wafRateLimit") > load_gate_requests(load_test_args)


# --- configuration ---------------------------------------------------------------------------


def test_a_drain_longer_than_the_stop_timeout_is_rejected() -> None:
    config = stack_config("dev") | {f"{PROJECT}:deregistrationDelaySeconds": "30"}
    with pytest.raises(Exception, match="deregistrationDelaySeconds must be below"):
        build_stack("dev", config)
