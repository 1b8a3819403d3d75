"""The hello-birthday platform: reads the stack's settings once and wires the components."""

from collections.abc import Sequence

import pulumi
from access import TaskAccess, TaskAccessArgs
from alerts import Alerts, AlertsArgs
from config import StackSettings, load_settings
from data import Data
from edge import Edge, EdgeArgs
from fargate_service import FargateService, FargateServiceArgs, Placement, Runtime
from names import APP_CONTAINER, SERVICE_NAME
from network import Network, NetworkArgs
from observability import Observability, ObservabilityArgs
from provider import aws_provider
from registry import Registry, RegistryArgs
from scaling import Scaling, ScalingArgs


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
    network = Network(prefix, NetworkArgs(settings.network, settings.region), opts=aws)
    edge = Edge(
        prefix,
        EdgeArgs(
            settings.edge,
            settings.delivery,
            short_name=settings.short_name_prefix,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
        ),
        opts=aws,
    )
    observability = Observability(
        prefix, observability_args(settings, edge=edge, alerts=alerts, data=data), opts=aws
    )
    service = FargateService(
        prefix,
        service_args(
            settings,
            network=network,
            edge=edge,
            access=access,
            data=data,
            deployment_alarm_names=observability.deployment_alarm_names,
        ),
        opts=aws,
    )
    Scaling(
        prefix,
        ScalingArgs(
            settings.scaling,
            cluster_name=service.cluster_name,
            service_name=service.service_name,
            load_balancer_arn_suffix=edge.load_balancer_arn_suffix,
        ),
        opts=aws,
    )
    pulumi.export("url", edge.url)
    pulumi.export("cluster_name", service.cluster_name)
    pulumi.export("service_name", service.service_name)
    # The service's own container in the task (the deploy program checks the image it runs).
    pulumi.export("container_name", APP_CONTAINER)
    pulumi.export("repository_url", registry.repository_url)


def observability_args(
    settings: StackSettings, *, edge: Edge, alerts: Alerts, data: Data
) -> ObservabilityArgs:
    """Alarms on the edge, the ECS service, the table and the service's own metrics."""
    return ObservabilityArgs(
        settings.alarms,
        region=settings.region,
        topic_arn=alerts.topic_arn,
        load_balancer_arn_suffix=edge.load_balancer_arn_suffix,
        target_group_arn_suffixes=edge.target_group_arn_suffixes,
        cluster_name=settings.cluster_name,
        service_name=SERVICE_NAME,
        table_name=data.table_name,
        metrics_namespace=settings.metrics_namespace,
    )


def service_args(
    settings: StackSettings,
    *,
    network: Network,
    edge: Edge,
    access: TaskAccess,
    data: Data,
    deployment_alarm_names: Sequence[pulumi.Input[str]],
) -> FargateServiceArgs:
    """Tasks in the private subnets, behind the edge, with the roles, logs and table."""
    return FargateServiceArgs(
        cluster_name=settings.cluster_name,
        service_name=SERVICE_NAME,
        task=settings.task,
        delivery=settings.delivery,
        desired_count=settings.scaling.min_tasks,
        placement=Placement(
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            load_balancer_security_group_id=edge.security_group_id,
        ),
        traffic=edge.traffic,
        runtime=Runtime(
            account_id=settings.account_id,
            region=settings.region,
            permissions_boundary=settings.permissions_boundary,
            task_role_arn=access.task_role_arn,
            execution_role_arn=access.execution_role_arn,
            role_policies=access.policies,
            log_group_name=access.log_group_name,
            metrics_log_group_name=access.metrics_log_group_name,
            metrics_namespace=settings.metrics_namespace,
            table_name=data.table_name,
        ),
        deployment_alarm_names=deployment_alarm_names,
    )


def main() -> None:
    settings = load_settings()
    # Components hand the provider down to every child (children are created with parent=self).
    aws = pulumi.ResourceOptions(providers=[aws_provider(settings)])
    prefix = settings.name_prefix
    data = Data(prefix, settings.data, opts=aws)
    # The execution role pulls from the stack's repository (none on LocalStack).
    registry = (
        Registry(prefix, RegistryArgs(repository_name=prefix), opts=aws)
        if settings.compute
        else None
    )
    access = TaskAccess(
        prefix,
        TaskAccessArgs(
            account_id=settings.account_id,
            region=settings.region,
            table_arn=data.table_arn,
            key_arn=data.key_arn,
            repository_arn=registry.repository_arn if registry else None,
            log_retention_days=settings.task.log_retention_days,
            permissions_boundary=settings.permissions_boundary,
        ),
        opts=aws,
    )
    alerts = Alerts(prefix, AlertsArgs(emails=settings.alarms.emails), opts=aws)
    if registry is not None:
        build_compute(settings, data=data, registry=registry, access=access, alerts=alerts, aws=aws)
    pulumi.export("table_name", data.table_name)
    pulumi.export("alarm_topic_arn", alerts.topic_arn)


main()
