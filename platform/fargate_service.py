"""The ECS service on Fargate: its cluster, task definition and tasks' security group, and the
rules every deployment follows."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from access import service_trust
from collector import collector_config, collector_container
from config import DeliverySettings, TaskSettings
from edge import Traffic
from names import APP_CONTAINER, HEALTH_CHECK_PATH

from hello_birthday.ports import API_PORT

# The component's type is part of every child's URN, so it stays `Service` whatever the class is
# called: another type would make Pulumi replace the cluster, the service and every other child
# in each stack.
COMPONENT_TYPE = "hello-birthday:platform:Service"
LOAD_BALANCER_ROLE_POLICY = (
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
)
# Liveness only; python is in the image, curl may not be.
HEALTH_CHECK = [
    "CMD",
    "python3",
    "-c",
    "import urllib.request; "
    f"urllib.request.urlopen('http://127.0.0.1:{API_PORT}{HEALTH_CHECK_PATH}', timeout=2)",
]
# Open files (each connection is one) for the service: stated, not left to the platform's
# default, which the ECS API reference gives for Fargate as 65535 soft and hard. The service's
# connection limit stays well below it.
NOFILE_LIMIT = 65536
# The provider's default ECS service timeout: what a deployment needs without a bake time
# (start tasks, pass health checks, shift traffic, drain and stop the old tasks).
DEPLOYMENT_MARGIN_MINUTES = 20


def deployment_timeout(bake_time_minutes: int) -> str:
    """How long `pulumi up` waits for the service: blue/green keeps the deployment open for the
    bake time, and `wait_for_steady_state` waits for all of it."""
    return f"{bake_time_minutes + DEPLOYMENT_MARGIN_MINUTES}m"


@dataclass(frozen=True)
class Placement:
    """Where tasks run and who may reach them."""

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    load_balancer_security_group_id: pulumi.Input[str]


@dataclass(frozen=True)
class Runtime:
    """What the task runs as and with: account, roles and their policies, logs, table."""

    account_id: str
    region: str
    #: The permissions boundary of every role (config.StackSettings.permissions_boundary).
    permissions_boundary: str | None
    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    #: Every policy of the task and execution roles.
    role_policies: Sequence[pulumi.Resource]
    log_group_name: pulumi.Input[str]
    metrics_log_group_name: pulumi.Input[str]
    #: The CloudWatch namespace of the service's own metrics.
    metrics_namespace: str
    table_name: pulumi.Input[str]


@dataclass(frozen=True)
class FargateServiceArgs:
    """The service's names, the stack's task and delivery settings, and what the network, the
    edge, the task's access and the alarms provide."""

    cluster_name: str
    service_name: str
    task: TaskSettings
    delivery: DeliverySettings
    #: The running count at creation; autoscaling owns it afterwards.
    desired_count: int
    placement: Placement
    traffic: Traffic
    runtime: Runtime
    #: The alarms that roll a deployment back.
    deployment_alarm_names: Sequence[pulumi.Input[str]]


def container_definitions(settings: TaskSettings, runtime: Runtime) -> pulumi.Output[str]:
    """The service and, beside it, the metrics collector that scrapes it over loopback."""
    log_options = {"awslogs-group": runtime.log_group_name, "awslogs-region": runtime.region}
    metrics = collector_config(
        runtime.metrics_namespace, runtime.metrics_log_group_name, runtime.region
    )
    return pulumi.Output.json_dumps(
        [
            app_container(settings, runtime, log_options),
            collector_container(metrics, log_options),
        ]
    )


def app_container(
    settings: TaskSettings, runtime: Runtime, log_options: Mapping[str, pulumi.Input[str]]
) -> dict[str, Any]:
    """The service's container definition: read-only, not root, against the stack's table."""
    return {
        "name": APP_CONTAINER,
        "image": settings.image,
        "essential": True,
        # The task's size less the collector's reservation (config.TaskSettings): a soft memory
        # reservation, so the service may use what the collector leaves.
        "cpu": settings.app_cpu,
        "memoryReservation": settings.app_memory,
        "user": settings.user,
        "readonlyRootFilesystem": True,
        "portMappings": [{"containerPort": API_PORT, "protocol": "tcp"}],
        "environment": [
            {
                "name": "HELLO_STORE",
                "value": pulumi.Output.concat("dynamodb://", runtime.table_name),
            },
            {"name": "AWS_REGION", "value": runtime.region},
            {"name": "HELLO_TIMEZONE", "value": settings.timezone},
            {"name": "HELLO_SHUTDOWN_TIMEOUT", "value": str(settings.shutdown_timeout_seconds)},
        ],
        # SIGKILL comes this long after SIGTERM: after the app's drain and the ALB's.
        "stopTimeout": settings.stop_timeout_seconds,
        "healthCheck": {
            "command": HEALTH_CHECK,
            "interval": 10,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 10,
        },
        # The root filesystem is read-only; the task's own scratch volume is /tmp. Fargate gives
        # a bind mount the owner and mode of the image's own directory at that path, which
        # service/Dockerfile declares as a volume (`nox -s image` checks).
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp"}],  # noqa: S108
        "linuxParameters": {"initProcessEnabled": True},
        "ulimits": [{"name": "nofile", "softLimit": NOFILE_LIMIT, "hardLimit": NOFILE_LIMIT}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {**log_options, "awslogs-stream-prefix": APP_CONTAINER},
        },
    }


@dataclass(frozen=True)
class BlueGreen:
    """What the service needs for ECS blue/green: the load balancer's advanced configuration
    and the policies of the role ECS shifts traffic with."""

    configuration: aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs
    role_policies: Sequence[pulumi.Resource]


class FargateService(pulumi.ComponentResource):
    """Fargate tasks in private subnets, reachable only from the load balancer's security group.

    Every deployment: alarm-based rollback, 100% minimum healthy, and `wait_for_steady_state`,
    so `pulumi up` fails when ECS rolled a deployment back. The circuit breaker is set on every
    service, but only rolling deployments (dev) count on it: the ECS API reference limits it to
    rolling updates. Blue/green relies on the alarms, and green takes production traffic only
    after it has scaled up.
    """

    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name = name
        tasks_group = self._tasks_security_group(args.placement)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
            opts=pulumi.ResourceOptions(parent=self),
        )
        task_definition = self._task_definition(args)
        blue_green = (
            self._blue_green(args.traffic, args.runtime) if args.delivery.blue_green else None
        )
        service = self._service(args, cluster, task_definition, tasks_group, blue_green)

        self.cluster_name = cluster.name
        self.service_name = service.name
        self.register_outputs(
            {"cluster_name": self.cluster_name, "service_name": self.service_name}
        )

    def _tasks_security_group(self, placement: Placement) -> aws.ec2.SecurityGroup:
        """The tasks' group: the API port from the load balancer's group, HTTPS out."""
        child = pulumi.ResourceOptions(parent=self)
        tasks_group = aws.ec2.SecurityGroup(
            f"{self._name}-tasks",
            vpc_id=placement.vpc_id,
            description="Service tasks",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-tasks-from-alb",
            security_group_id=tasks_group.id,
            referenced_security_group_id=placement.load_balancer_security_group_id,
            ip_protocol="tcp",
            from_port=API_PORT,
            to_port=API_PORT,
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-alb-to-tasks",
            security_group_id=placement.load_balancer_security_group_id,
            referenced_security_group_id=tasks_group.id,
            ip_protocol="tcp",
            from_port=API_PORT,
            to_port=API_PORT,
            opts=child,
        )
        # HTTPS out: ECR, CloudWatch Logs and DynamoDB (through the gateway endpoint).
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-tasks-https-out",
            security_group_id=tasks_group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            opts=child,
        )
        return tasks_group

    def _task_definition(self, args: FargateServiceArgs) -> aws.ecs.TaskDefinition:
        task, runtime = args.task, args.runtime
        return aws.ecs.TaskDefinition(
            f"{self._name}-task",
            family=f"{args.cluster_name}-{args.service_name}",
            cpu=str(task.cpu),
            memory=str(task.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            task_role_arn=runtime.task_role_arn,
            execution_role_arn=runtime.execution_role_arn,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
            container_definitions=container_definitions(task, runtime),
            # Registered only once both roles can do what the containers need.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(runtime.role_policies)),
        )

    def _blue_green(self, traffic: Traffic, runtime: Runtime) -> BlueGreen:
        if traffic.alternate_target_group_arn is None:
            raise ValueError("blue/green needs an alternate target group")
        # ECS itself moves the listener rules' weights between the two target groups. The
        # infrastructure role's documented trust has no condition; aws:SourceAccount holds it
        # to this account's ECS (no ARN form of the caller is documented for aws:SourceArn).
        role = aws.iam.Role(
            f"{self._name}-ecs-load-balancers",
            assume_role_policy=json.dumps(service_trust("ecs.amazonaws.com", runtime.account_id)),
            permissions_boundary=runtime.permissions_boundary,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._name}-ecs-load-balancers",
            role=role.name,
            policy_arn=LOAD_BALANCER_ROLE_POLICY,
            opts=pulumi.ResourceOptions(parent=self),
        )
        configuration = aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
            alternate_target_group_arn=traffic.alternate_target_group_arn,
            production_listener_rule=traffic.production_rule_arn,
            test_listener_rule=traffic.test_rule_arn,
            role_arn=role.arn,
        )
        return BlueGreen(configuration, role_policies=(attachment,))

    def _service(
        self,
        args: FargateServiceArgs,
        cluster: aws.ecs.Cluster,
        task_definition: aws.ecs.TaskDefinition,
        tasks_group: aws.ec2.SecurityGroup,
        blue_green: BlueGreen | None,
    ) -> aws.ecs.Service:
        delivery = args.delivery
        return aws.ecs.Service(
            f"{self._name}-service",
            name=args.service_name,
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            launch_type="FARGATE",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.placement.subnet_ids),
                security_groups=[tasks_group.id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    container_name=APP_CONTAINER,
                    container_port=API_PORT,
                    target_group_arn=args.traffic.primary_target_group_arn,
                    advanced_configuration=blue_green.configuration if blue_green else None,
                )
            ],
            health_check_grace_period_seconds=delivery.health_check_grace_period_seconds,
            deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(type="ECS"),
            deployment_configuration=aws.ecs.ServiceDeploymentConfigurationArgs(
                strategy=delivery.strategy,
                # Of the two strategies a stack may choose, only blue/green has a bake time.
                bake_time_in_minutes=(
                    str(delivery.bake_time_minutes) if delivery.blue_green else None
                ),
            ),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            alarms=aws.ecs.ServiceAlarmsArgs(
                alarm_names=list(args.deployment_alarm_names), enable=True, rollback=True
            ),
            # A rolled-back deployment never reaches steady state on the new revision:
            # `pulumi up` then fails instead of reporting success.
            wait_for_steady_state=True,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            opts=self._service_options(args, blue_green),
        )

    def _service_options(
        self, args: FargateServiceArgs, blue_green: BlueGreen | None
    ) -> pulumi.ResourceOptions:
        timeout = deployment_timeout(args.delivery.bake_time_minutes)
        return pulumi.ResourceOptions(
            parent=self,
            # Tasks start only once every role they and ECS use has all its permissions, and the
            # service is gone before any of them is removed.
            depends_on=[
                *args.traffic.dependencies,
                *args.runtime.role_policies,
                *(blue_green.role_policies if blue_green else ()),
            ],
            # Autoscaling owns the running count after creation. With blue/green, ECS owns which
            # target group is live: after each deployment it swaps the production and alternate
            # groups, and re-sending the ones created here would put the next revision into the
            # live group or move traffic to an empty one (docs/runbook.md, "Changing target
            # groups on purpose").
            ignore_changes=["desiredCount", *(["loadBalancers"] if blue_green else [])],
            custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
        )
