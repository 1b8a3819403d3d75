"""Invariants of every stack, asserted on what the real program registers from real config."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import policy_checks
import pytest
from guardrails import GUARDRAILS
from stack_builds import (
    COMPUTE_STACKS,
    PROGRAM,
    PROJECT,
    STACKS,
    Registration,
    StackBuild,
    build_stack,
    stack_config,
)

from hello_birthday.store.schema import ATTRIBUTE_DEFINITIONS, PARTITION_KEY

Build = Callable[[str], StackBuild]
POLICY_CONFIG = {"dev": PROGRAM / "policy" / "policy-config.dev.json"}


def setting(stack: str, key: str) -> str:
    """A configuration value as the program receives it (non-strings JSON-encoded)."""
    return stack_config(stack)[f"{PROJECT}:{key}"]


def config_value(stack: str, key: str) -> Any:
    return json.loads(setting(stack, key))


def container(build: StackBuild) -> dict[str, Any]:
    (definition,) = json.loads(
        build.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"]
    )
    assert isinstance(definition, dict)
    return definition


def environment(build: StackBuild) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container(build)["environment"]}


def named(build: StackBuild, type_: str, suffix: str) -> Registration:
    (resource,) = [r for r in build.of_type(type_) if r.name.endswith(suffix)]
    return resource


def mock_id(resource: Registration) -> str:
    return f"{resource.name}-id"


def mock_arn(build: StackBuild, resource: Registration) -> str:
    region = setting(build.stack, "region")
    service = resource.type.split(":")[1].split("/")[0]
    kind = resource.type.rsplit(":", 1)[1].lower()
    return f"arn:aws:{service}:{region}:123456789012:{kind}/{resource.name}"


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
    assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": mock_arn(build, key)}
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
def test_task_role_may_only_get_put_and_describe_its_table(built: Build, stack: str) -> None:
    build = built(stack)
    task_policy = named(build, "aws:iam/rolePolicy:RolePolicy", "-task")
    assert task_policy.inputs["role"] == mock_id(named(build, "aws:iam/role:Role", "-task"))
    statements = json.loads(task_policy.inputs["policy"])["Statement"]
    table_arn = mock_arn(build, build.one("aws:dynamodb/table:Table"))
    key_arn = mock_arn(build, build.one("aws:kms/key:Key"))
    by_resource = {statement["Resource"]: statement for statement in statements}
    assert set(by_resource) == {table_arn, key_arn}
    assert sorted(by_resource[table_arn]["Action"]) == [
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    ]
    assert all(action.startswith("kms:") for action in by_resource[key_arn]["Action"])
    assert by_resource[key_arn]["Condition"]["StringEquals"]["kms:ViaService"].startswith(
        "dynamodb."
    )
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert not any("*" in action for action in statement["Action"])
        assert "*" not in statement["Resource"]
    # The task role has nothing else attached.
    task_role_urn = named(build, "aws:iam/role:Role", "-task").urn
    attachments = build.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert all(a.inputs["role"] != task_role_urn.rsplit("::", 1)[1] for a in attachments)


@pytest.mark.parametrize("stack", STACKS)
def test_logs_are_kept_as_long_as_the_environment_says(built: Build, stack: str) -> None:
    log_group = built(stack).one("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["retentionInDays"] == config_value(stack, "logRetentionDays")


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
    assert {"url", "table_name", "cluster_name", "service_name", "repository_url"} <= set(outputs)
    assert outputs["table_name"] == f"{PROJECT}-{stack}"
    assert outputs["cluster_name"] == f"{PROJECT}-{stack}"
    assert outputs["service_name"] == PROJECT
    assert outputs["repository_url"].endswith(f".amazonaws.com/{PROJECT}-{stack}")
    domain = setting(stack, "domain")
    if domain:
        assert outputs["url"] == f"https://{domain}"
    else:
        assert outputs["url"] == f"http://{PROJECT}-{stack}-alb.eu-west-1.elb.amazonaws.com"


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
    assert association["webAclArn"] == mock_arn(build, acl)
    assert association["resourceArn"] == mock_arn(
        build, build.one("aws:lb/loadBalancer:LoadBalancer")
    )


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
        app["logConfiguration"]["options"]["awslogs-group"]
        == (build.one("aws:cloudwatch/logGroup:LogGroup").inputs["name"])
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
    alarm_names = {
        a.inputs["name"] for a in build.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert inputs["alarms"]["enable"] is True
    assert inputs["alarms"]["rollback"] is True
    assert set(inputs["alarms"]["alarmNames"]) == alarm_names
    assert {name.rsplit("-", 2)[-2] + "-" + name.rsplit("-", 1)[-1] for name in alarm_names} == {
        "5xx-rate",
        "p99-latency",
    }
    assert "desiredCount" in service.ignore_changes  # autoscaling owns it


def test_prod_deploys_blue_green_with_bake_time_test_listener_and_alarm_rollback(
    built: Build,
) -> None:
    build = built("prod")
    service = build.one("aws:ecs/service:Service").inputs
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert int(service["deploymentConfiguration"]["bakeTimeInMinutes"]) >= 10
    (load_balancer,) = service["loadBalancers"]
    advanced = load_balancer["advancedConfiguration"]
    groups = {mock_arn(build, g): g for g in build.of_type("aws:lb/targetGroup:TargetGroup")}
    assert {load_balancer["targetGroupArn"], advanced["alternateTargetGroupArn"]} == set(groups)
    rules = {r.name.rsplit("-", 1)[1]: r for r in build.of_type("aws:lb/listenerRule:ListenerRule")}
    assert advanced["productionListenerRule"] == mock_arn(build, rules["production"])
    assert advanced["testListenerRule"] == mock_arn(build, rules["test"])
    assert advanced["roleArn"] == mock_arn(
        build, named(build, "aws:iam/role:Role", "-ecs-load-balancers")
    )
    for rule in rules.values():
        assert "actions" in rule.ignore_changes  # ECS moves the weights


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
    metrics = {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]
        for p in build.of_type("aws:appautoscaling/policy:Policy")
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_alarms_notify_the_topic_and_a_dashboard_exists(built: Build, stack: str) -> None:
    build = built(stack)
    topic_arn = mock_arn(build, build.one("aws:sns/topic:Topic"))
    for alarm in build.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [topic_arn]
    body = json.loads(build.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    titles = {widget["properties"]["title"] for widget in body["widgets"]}
    assert {"Requests", "Errors", "Tasks", "DynamoDB"} <= titles


# --- configuration ---------------------------------------------------------------------------


def test_a_drain_longer_than_the_stop_timeout_is_rejected() -> None:
    config = stack_config("dev") | {f"{PROJECT}:deregistrationDelaySeconds": "30"}
    with pytest.raises(Exception, match="deregistrationDelaySeconds must be below"):
        build_stack("dev", config)
