"""The hello-birthday platform: reads the stack's settings once and wires the components."""

import pulumi
from access import TaskAccess
from alerts import Alerts
from config import StackSettings, load_settings
from data import Data
from edge import Edge
from network import Network
from observability import Observability
from provider import aws_provider
from registry import Registry
from scaling import Scaling

from service import CONTAINER_NAME, Placement, Runtime, Service, Traffic

SERVICE_NAME = "hello-birthday"


def build_compute(
    settings: StackSettings,
    *,
    data: Data,
    registry: Registry,
    access: TaskAccess,
    alerts: Alerts,
    aws: pulumi.ResourceOptions,
) -> None:
    """Network, load balancer, ECS service, scaling and alarms (not on LocalStack)."""
    prefix = settings.name_prefix
    network = Network(prefix, settings.network, settings.region, opts=aws)
    edge = Edge(
        prefix,
        settings.edge,
        settings.delivery,
        short_name=settings.short_name_prefix,
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        opts=aws,
    )
    observability = Observability(
        prefix,
        settings.alarms,
        region=settings.region,
        topic_arn=alerts.topic_arn,
        load_balancer=edge.load_balancer_arn_suffix,
        target_groups=[group.arn_suffix for group in edge.target_groups],
        cluster_name=prefix,
        service_name=SERVICE_NAME,
        table_name=data.table_name,
        opts=aws,
    )
    service = Service(
        prefix,
        cluster_name=prefix,
        service_name=SERVICE_NAME,
        task=settings.task,
        delivery=settings.delivery,
        desired_count=settings.scaling.min_tasks,
        placement=Placement(
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            load_balancer_security_group_id=edge.security_group_id,
        ),
        traffic=Traffic(
            primary_target_group_arn=edge.primary_target_group.arn,
            alternate_target_group_arn=(
                edge.alternate_target_group.arn if edge.alternate_target_group else None
            ),
            production_rule_arn=edge.production_rule.arn,
            test_rule_arn=edge.test_rule.arn if edge.test_rule else None,
            dependencies=[edge],
        ),
        runtime=Runtime(
            account_id=settings.account_id,
            region=settings.region,
            permissions_boundary=settings.permissions_boundary,
            task_role_arn=access.task_role_arn,
            execution_role_arn=access.execution_role_arn,
            role_policies=access.policies,
            log_group_name=access.log_group_name,
            metrics_log_group_name=access.metrics_log_group_name,
            # The dashboard and the store-errors alarm read the same namespace.
            metrics_namespace=prefix,
            table_name=data.table_name,
        ),
        deployment_alarm_names=observability.deployment_alarm_names,
        opts=aws,
    )
    Scaling(
        prefix,
        settings.scaling,
        cluster_name=service.cluster_name,
        service_name=service.service_name,
        load_balancer=edge.load_balancer_arn_suffix,
        opts=aws,
    )
    pulumi.export("url", edge.url)
    pulumi.export("cluster_name", service.cluster_name)
    pulumi.export("service_name", service.service_name)
    # The service's own container in the task (the deploy program checks the image it runs).
    pulumi.export("container_name", CONTAINER_NAME)
    pulumi.export("repository_url", registry.repository_url)


def main() -> None:
    settings = load_settings()
    # Components hand the provider down to every child (children are created with parent=self).
    aws = pulumi.ResourceOptions(providers=[aws_provider(settings)])
    prefix = settings.name_prefix
    data = Data(prefix, settings.data, opts=aws)
    # The execution role pulls from the stack's repository (none on LocalStack).
    registry = Registry(prefix, repository_name=prefix, opts=aws) if settings.compute else None
    access = TaskAccess(
        prefix,
        account_id=settings.account_id,
        region=settings.region,
        table_arn=data.table_arn,
        key_arn=data.key_arn,
        repository_arn=registry.repository_arn if registry else None,
        log_retention_days=settings.task.log_retention_days,
        permissions_boundary=settings.permissions_boundary,
        opts=aws,
    )
    alerts = Alerts(prefix, settings.alarms.emails, opts=aws)
    if registry is not None:
        build_compute(settings, data=data, registry=registry, access=access, alerts=alerts, aws=aws)
    pulumi.export("table_name", data.table_name)
    pulumi.export("alarm_topic_arn", alerts.topic_arn)


main()
