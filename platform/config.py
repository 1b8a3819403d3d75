"""Stack configuration -> one typed settings object.

Pulumi.yaml declares every key with its type and default, so this module only reads and checks;
the per-environment values live in environments/Pulumi.<stack>.yaml.
"""

from dataclasses import dataclass
from typing import Literal, cast

import pulumi

CONTAINER_PORT = 8000
DeploymentStrategy = Literal["ROLLING", "BLUE_GREEN"]


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
    """What the container runs with: shared by the task definition and its roles and logs."""

    image: str
    cpu: int
    memory: int
    user: str
    timezone: str
    log_retention_days: int
    stop_timeout_seconds: int
    shutdown_timeout_seconds: int


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
    domain: str
    hosted_zone_id: str
    waf: bool
    waf_rate_limit: int

    @property
    def https(self) -> bool:
        return bool(self.domain and self.hosted_zone_id)


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
    def tags(self) -> dict[str, str]:
        return {"Project": self.project, "Environment": self.environment, "ManagedBy": "pulumi"}


class ConfigError(ValueError):
    """The stack's configuration contradicts itself."""


def load_settings() -> StackSettings:
    """Read the current stack's configuration once."""
    config = pulumi.Config()
    project, environment = pulumi.get_project(), pulumi.get_stack()
    strategy = config.require("deploymentStrategy")
    if strategy not in ("ROLLING", "BLUE_GREEN"):
        raise ConfigError(f"deploymentStrategy must be ROLLING or BLUE_GREEN, not {strategy!r}")
    settings = StackSettings(
        project=project,
        environment=environment,
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
        task=TaskSettings(
            image=config.require("image"),
            cpu=config.require_int("cpu"),
            memory=config.require_int("memory"),
            user=config.require("containerUser"),
            timezone=config.require("timezone"),
            log_retention_days=config.require_int("logRetentionDays"),
            stop_timeout_seconds=config.require_int("stopTimeoutSeconds"),
            shutdown_timeout_seconds=config.require_int("shutdownTimeoutSeconds"),
        ),
        delivery=DeliverySettings(
            strategy=cast(DeploymentStrategy, strategy),
            bake_time_minutes=config.require_int("bakeTimeMinutes"),
            health_check_grace_period_seconds=config.require_int("healthCheckGracePeriodSeconds"),
            deregistration_delay_seconds=config.require_int("deregistrationDelaySeconds"),
            test_listener_port=config.require_int("testListenerPort"),
            test_listener_cidrs=tuple(config.require_object("testListenerCidrs")),
        ),
        edge=EdgeSettings(
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
    if settings.compute and not task.image:
        raise ConfigError("image is required when compute is true (pulumi config set image ...)")
