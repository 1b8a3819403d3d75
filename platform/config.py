"""Stack configuration -> one typed settings object.

Pulumi.yaml declares every key with its type and default, so this module only reads and checks;
the per-environment values live in environments/Pulumi.<stack>.yaml.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import pulumi
from collector import COLLECTOR_CPU, COLLECTOR_MEMORY_MIB

DeploymentStrategy = Literal["ROLLING", "BLUE_GREEN"]
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# Fargate's task sizes: CPU units -> the memory sizes (MiB) allowed with them (the ECS developer
# guide, "Amazon ECS task definition parameters for Fargate", task size table).
FARGATE_SIZES: dict[int, Sequence[int]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}


@dataclass(frozen=True)
class NetworkSettings:
    cidr: str
    az_count: int
    nat_gateways: int


@dataclass(frozen=True)
class DataSettings:
    table_name: str
    protect: bool


@dataclass(frozen=True)
class TaskSettings:
    """What the containers run with: shared by the task definition and its roles and logs.

    `cpu` and `memory` are the task's size, what Fargate allocates and bills: the metrics
    collector's fixed reservation comes out of it and the service gets the rest.
    """

    image: str
    cpu: int
    memory: int
    user: str
    timezone: str
    log_retention_days: int
    stop_timeout_seconds: int
    shutdown_timeout_seconds: int

    @property
    def app_cpu(self) -> int:
        return self.cpu - COLLECTOR_CPU

    @property
    def app_memory(self) -> int:
        return self.memory - COLLECTOR_MEMORY_MIB


@dataclass(frozen=True)
class DeliverySettings:
    strategy: DeploymentStrategy
    bake_time_minutes: int
    health_check_grace_period_seconds: int
    deregistration_delay_seconds: int
    test_listener_port: int
    test_listener_cidrs: tuple[str, ...]

    @property
    def blue_green(self) -> bool:
        return self.strategy == "BLUE_GREEN"


@dataclass(frozen=True)
class EdgeSettings:
    https: bool
    domain: str
    hosted_zone_id: str
    waf: bool
    waf_rate_limit: int


@dataclass(frozen=True)
class ScalingSettings:
    min_tasks: int
    max_tasks: int
    cpu_target_percent: int
    requests_per_target: int


@dataclass(frozen=True)
class AlarmSettings:
    error_rate_percent: int
    latency_p99_milliseconds: int
    emails: tuple[str, ...]


@dataclass(frozen=True)
class StackSettings:
    project: str
    environment: str
    account_id: str
    region: str
    aws_endpoint: str
    compute: bool
    network: NetworkSettings
    data: DataSettings
    task: TaskSettings
    delivery: DeliverySettings
    edge: EdgeSettings
    scaling: ScalingSettings
    alarms: AlarmSettings

    @property
    def name_prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    @property
    def short_name_prefix(self) -> str:
        """The prefix with the project as its initials (`hb-staging`), for resources whose AWS
        names are capped at 32 characters."""
        initials = "".join(word[0] for word in self.project.split("-"))
        return f"{initials}-{self.environment}"

    @property
    def cluster_name(self) -> str:
        """The ECS cluster's name: the stack's own."""
        return self.name_prefix

    @property
    def metrics_namespace(self) -> str:
        """The CloudWatch namespace of the service's own metrics: the collector writes to it,
        the dashboard and the store-errors alarm read it."""
        return self.name_prefix

    @property
    def tags(self) -> dict[str, str]:
        return {"Project": self.project, "Environment": self.environment, "ManagedBy": "pulumi"}

    @property
    def permissions_boundary(self) -> str | None:
        """The policy every role of the stack carries as its permissions boundary: the most any
        of them may do, created by the bootstrap (platform/bootstrap/boundary.py), which lets the
        deploy role write no role without it. LocalStack (`awsEndpoint`) has no bootstrap, and
        IAM would refuse a boundary that does not exist: there the roles carry none."""
        if self.aws_endpoint:
            return None
        return f"arn:aws:iam::{self.account_id}:policy/{self.name_prefix}-boundary"


class ConfigError(ValueError):
    """The stack's configuration is incomplete or contradicts itself."""


@dataclass(frozen=True)
class Required:
    """A setting without a committed value, and what an operator sets it to."""

    key: str
    value: str  # what `pulumi config set KEY VALUE` takes, in words
    needed_because: str


def required_settings(config: pulumi.Config) -> Iterator[Required]:
    """The settings this stack needs before it can run (the stack files mark what applies)."""
    yield Required("accountId", "ACCOUNT_ID", "the 12-digit AWS account the stack deploys to")
    if config.require_bool("compute"):
        yield Required("image", "REPOSITORY_URL:GIT_SHA", "the image the service runs")
    if config.require_bool("https"):
        yield Required("domain", "HOST_NAME", "the public host name served over HTTPS")
        yield Required("hostedZoneId", "ZONE_ID", "the Route 53 hosted zone that holds domain")


def require_all(config: pulumi.Config, stack: str) -> None:
    """One error naming every missing setting and the command that sets it."""
    missing = [setting for setting in required_settings(config) if not config.get(setting.key)]
    if missing:
        commands = "\n".join(
            f"  {setting.key} ({setting.needed_because}):\n"
            f"    pulumi config set {setting.key} {setting.value} --stack {stack}"
            for setting in missing
        )
        raise ConfigError(
            f"stack {stack} is missing settings; set each, then run again:\n{commands}"
        )


def load_settings() -> StackSettings:
    """Read the current stack's configuration once."""
    config = pulumi.Config()
    project, environment = pulumi.get_project(), pulumi.get_stack()
    require_all(config, environment)
    settings = StackSettings(
        project=project,
        environment=environment,
        account_id=config.require("accountId"),
        region=config.require("region"),
        aws_endpoint=config.require("awsEndpoint"),
        compute=config.require_bool("compute"),
        network=NetworkSettings(
            cidr=config.require("vpcCidr"),
            az_count=config.require_int("azCount"),
            nat_gateways=config.require_int("natGateways"),
        ),
        data=DataSettings(
            table_name=f"{project}-{environment}", protect=config.require_bool("protectData")
        ),
        task=_task_settings(config),
        delivery=_delivery_settings(config),
        edge=EdgeSettings(
            https=config.require_bool("https"),
            domain=config.require("domain"),
            hosted_zone_id=config.require("hostedZoneId"),
            waf=config.require_bool("waf"),
            waf_rate_limit=config.require_int("wafRateLimit"),
        ),
        scaling=ScalingSettings(
            min_tasks=config.require_int("minTasks"),
            max_tasks=config.require_int("maxTasks"),
            cpu_target_percent=config.require_int("cpuTargetPercent"),
            requests_per_target=config.require_int("requestsPerTarget"),
        ),
        alarms=AlarmSettings(
            error_rate_percent=config.require_int("errorRatePercent"),
            latency_p99_milliseconds=config.require_int("latencyP99Milliseconds"),
            emails=tuple(config.require_object("alarmEmails")),
        ),
    )
    validate(settings)
    return settings


def _task_settings(config: pulumi.Config) -> TaskSettings:
    return TaskSettings(
        image=config.require("image"),
        cpu=config.require_int("cpu"),
        memory=config.require_int("memory"),
        user=config.require("containerUser"),
        timezone=config.require("timezone"),
        log_retention_days=config.require_int("logRetentionDays"),
        stop_timeout_seconds=config.require_int("stopTimeoutSeconds"),
        shutdown_timeout_seconds=config.require_int("shutdownTimeoutSeconds"),
    )


def _delivery_settings(config: pulumi.Config) -> DeliverySettings:
    strategy = config.require("deploymentStrategy")
    if strategy not in ("ROLLING", "BLUE_GREEN"):
        raise ConfigError(f"deploymentStrategy must be ROLLING or BLUE_GREEN, not {strategy!r}")
    return DeliverySettings(
        strategy=cast(DeploymentStrategy, strategy),
        bake_time_minutes=config.require_int("bakeTimeMinutes"),
        health_check_grace_period_seconds=config.require_int("healthCheckGracePeriodSeconds"),
        deregistration_delay_seconds=config.require_int("deregistrationDelaySeconds"),
        test_listener_port=config.require_int("testListenerPort"),
        test_listener_cidrs=tuple(config.require_object("testListenerCidrs")),
    )


def validate(settings: StackSettings) -> None:
    """Reject combinations that would deploy but break the no-downtime guarantees."""
    task, delivery = settings.task, settings.delivery
    if not delivery.deregistration_delay_seconds < task.stop_timeout_seconds:
        raise ConfigError("deregistrationDelaySeconds must be below stopTimeoutSeconds")
    if not task.shutdown_timeout_seconds < task.stop_timeout_seconds:
        raise ConfigError("shutdownTimeoutSeconds must be below stopTimeoutSeconds")
    if not 1 <= settings.network.nat_gateways <= settings.network.az_count:
        raise ConfigError("natGateways must be between 1 and azCount")
    if not 1 <= settings.scaling.min_tasks <= settings.scaling.max_tasks:
        raise ConfigError("minTasks must be between 1 and maxTasks")
    if not ACCOUNT_ID.fullmatch(settings.account_id):
        raise ConfigError(f"accountId must be 12 digits, not {settings.account_id!r}")
    if not settings.edge.https and (settings.edge.domain or settings.edge.hosted_zone_id):
        raise ConfigError("domain and hostedZoneId are used only with https: true")
    if delivery.bake_time_minutes and not delivery.blue_green:
        raise ConfigError("bakeTimeMinutes applies to BLUE_GREEN deployments only")
    validate_task_size(task)


def validate_task_size(task: TaskSettings) -> None:
    """A size Fargate offers: the smallest (256 units, 512 MiB) still leaves the service three
    quarters of it beside the collector."""
    if task.memory not in FARGATE_SIZES.get(task.cpu, ()):
        raise ConfigError(
            f"cpu {task.cpu} with memory {task.memory} is not a Fargate task size "
            f"(cpu one of {sorted(FARGATE_SIZES)}, with a memory size its row allows)"
        )
