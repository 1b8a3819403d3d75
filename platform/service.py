"""Service: the ECS cluster, the Fargate task definition and the service with its delivery rules."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from config import CONTAINER_PORT, DeliverySettings, TaskSettings

CONTAINER_NAME = "app"
ECS_TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)
LOAD_BALANCER_ROLE_POLICY = (
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
)
# Liveness only; python is in the image, curl may not be.
HEALTH_CHECK = [
    "CMD",
    "python3",
    "-c",
    "import urllib.request; "
    f"urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}/healthz', timeout=2)",
]
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
class Traffic:
    """The load balancer pieces the service registers with (and ECS re-weights in blue/green)."""

    primary_target_group_arn: pulumi.Input[str]
    alternate_target_group_arn: pulumi.Input[str] | None
    production_rule_arn: pulumi.Input[str]
    test_rule_arn: pulumi.Input[str] | None
    dependencies: Sequence[pulumi.Resource]


@dataclass(frozen=True)
class Runtime:
    """What the task runs as and with: roles, logs, table."""

    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    log_group_name: pulumi.Input[str]
    table_name: pulumi.Input[str]
    region: str


def container_definitions(settings: TaskSettings, runtime: Runtime) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps(
        [
            {
                "name": CONTAINER_NAME,
                "image": settings.image,
                "essential": True,
                "user": settings.user,
                "readonlyRootFilesystem": True,
                "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
                "environment": [
                    {
                        "name": "HELLO_STORE",
                        "value": pulumi.Output.concat("dynamodb://", runtime.table_name),
                    },
                    {"name": "AWS_REGION", "value": runtime.region},
                    {"name": "HELLO_TIMEZONE", "value": settings.timezone},
                    {
                        "name": "HELLO_SHUTDOWN_TIMEOUT",
                        "value": str(settings.shutdown_timeout_seconds),
                    },
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
                # The root filesystem is read-only; the task's own scratch volume is /tmp.
                "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp"}],  # noqa: S108
                "linuxParameters": {"initProcessEnabled": True},
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": runtime.log_group_name,
                        "awslogs-region": runtime.region,
                        "awslogs-stream-prefix": CONTAINER_NAME,
                    },
                },
            }
        ]
    )


class Service(pulumi.ComponentResource):
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
        self,
        name: str,
        *,
        cluster_name: str,
        service_name: str,
        task: TaskSettings,
        delivery: DeliverySettings,
        desired_count: int,
        placement: Placement,
        traffic: Traffic,
        runtime: Runtime,
        deployment_alarm_names: Sequence[pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hello-birthday:platform:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        tasks_group = aws.ec2.SecurityGroup(
            f"{name}-tasks", vpc_id=placement.vpc_id, description="Service tasks", opts=child
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-tasks-from-alb",
            security_group_id=tasks_group.id,
            referenced_security_group_id=placement.load_balancer_security_group_id,
            ip_protocol="tcp",
            from_port=CONTAINER_PORT,
            to_port=CONTAINER_PORT,
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-tasks",
            security_group_id=placement.load_balancer_security_group_id,
            referenced_security_group_id=tasks_group.id,
            ip_protocol="tcp",
            from_port=CONTAINER_PORT,
            to_port=CONTAINER_PORT,
            opts=child,
        )
        # HTTPS out: ECR, CloudWatch Logs and DynamoDB (through the gateway endpoint).
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-tasks-https-out",
            security_group_id=tasks_group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            opts=child,
        )

        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
            opts=child,
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{cluster_name}-{service_name}",
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
            opts=child,
        )

        # Every `pulumi up` sends blue as the production group and green as the alternate,
        # whichever group ECS left live: deployments driven through Terraform's AWS provider,
        # which Pulumi's wraps, do not alternate the groups as console deployments do
        # (hashicorp/terraform-provider-aws#45678, open). Scaling and alarms count both groups.
        load_balancer = aws.ecs.ServiceLoadBalancerArgs(
            container_name=CONTAINER_NAME,
            container_port=CONTAINER_PORT,
            target_group_arn=traffic.primary_target_group_arn,
            advanced_configuration=self._blue_green(name, traffic) if delivery.blue_green else None,
        )
        service = aws.ecs.Service(
            f"{name}-service",
            name=service_name,
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=desired_count,
            launch_type="FARGATE",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(placement.subnet_ids),
                security_groups=[tasks_group.id],
                assign_public_ip=False,
            ),
            load_balancers=[load_balancer],
            health_check_grace_period_seconds=delivery.health_check_grace_period_seconds,
            deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(type="ECS"),
            deployment_configuration=aws.ecs.ServiceDeploymentConfigurationArgs(
                strategy=delivery.strategy,
                bake_time_in_minutes=str(delivery.bake_time_minutes),
            ),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            alarms=aws.ecs.ServiceAlarmsArgs(
                alarm_names=list(deployment_alarm_names), enable=True, rollback=True
            ),
            # A rolled-back deployment never reaches steady state on the new revision:
            # `pulumi up` then fails instead of reporting success.
            wait_for_steady_state=True,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(traffic.dependencies),
                # Autoscaling owns the running count after creation.
                ignore_changes=["desiredCount"],
                custom_timeouts=pulumi.CustomTimeouts(
                    create=deployment_timeout(delivery.bake_time_minutes),
                    update=deployment_timeout(delivery.bake_time_minutes),
                ),
            ),
        )

        self.cluster_name = cluster.name
        self.service_name = service.name
        self.register_outputs(
            {"cluster_name": self.cluster_name, "service_name": self.service_name}
        )

    def _blue_green(
        self, name: str, traffic: Traffic
    ) -> aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs:
        if traffic.alternate_target_group_arn is None:
            raise ValueError("blue/green needs an alternate target group")
        # ECS itself moves the listener rules' weights between the two target groups.
        role = aws.iam.Role(
            f"{name}-ecs-load-balancers",
            assume_role_policy=ECS_TRUST,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-ecs-load-balancers",
            role=role.name,
            policy_arn=LOAD_BALANCER_ROLE_POLICY,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
            alternate_target_group_arn=traffic.alternate_target_group_arn,
            production_listener_rule=traffic.production_rule_arn,
            test_listener_rule=traffic.test_rule_arn,
            role_arn=role.arn,
        )
