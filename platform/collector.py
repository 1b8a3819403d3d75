"""The metrics collector: an AWS Distro for OpenTelemetry sidecar in every task.

It scrapes the service's Prometheus metrics on the task's loopback interface (awsvpc tasks share
it; the metrics port is never mapped, routed or opened) and writes them to CloudWatch Logs in
embedded metric format, from which CloudWatch extracts the metrics the dashboard and the
store-errors alarm read.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from names import COLLECTOR_CONTAINER

from hello_birthday.ports import METRICS_PORT

# ADOT v0.49.0 (OpenTelemetry Collector and contrib v0.156.0), by the digest of its multi-arch
# index as published on ECR Public. A new version: its release notes list the collector version;
# take the index digest with `crane digest` or `docker buildx imagetools inspect`.
COLLECTOR_IMAGE = (
    "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0"
    "@sha256:d2bdfff2c377c3d71d78bd5d9ce9862fd535b12134a5739d87a07801297cf9fd"
)
# Reserved inside the task's size (config.TaskSettings): a hard memory limit, so the collector
# can never take the service's memory, and CPU shares that count only under contention.
COLLECTOR_CPU = 64
COLLECTOR_MEMORY_MIB = 128
# The Go runtime collects garbage harder as it nears this, well before the kernel's limit.
COLLECTOR_GO_MEMORY_LIMIT = f"{COLLECTOR_MEMORY_MIB * 3 // 4}MiB"
SCRAPE_INTERVAL = "30s"  # two points in each of the alarms' one-minute periods


@dataclass(frozen=True)
class Exported:
    """A Prometheus metric that becomes a CloudWatch metric of the same name."""

    name: str
    dimensions: tuple[str, ...]  # labels that become CloudWatch dimensions, each set billed
    histogram: bool

    @property
    def series(self) -> str:
        """The regular expression of the Prometheus series that carry it."""
        return f"{self.name}_(?:bucket|sum|count)" if self.histogram else self.name


STORE_LATENCY = Exported("store_call_duration_seconds", ("operation",), histogram=True)
STORE_ERRORS = Exported("store_errors_total", ("operation",), histogram=False)
# By route template only: the method label is whatever a client sends.
REQUEST_LATENCY = Exported("http_request_duration_seconds", ("route",), histogram=True)
EXPORTED = (STORE_LATENCY, STORE_ERRORS, REQUEST_LATENCY)


def collector_config(
    namespace: str, log_group_name: pulumi.Input[str], region: str
) -> dict[str, Any]:
    """The collector's configuration: prometheus receiver -> processors -> awsemf exporter.

    No `$` anywhere: the collector expands `${...}` in its configuration from the environment.
    """
    return {
        "receivers": {"prometheus": {"config": {"scrape_configs": [_scrape_config()]}}},
        "processors": {
            # The task's identity (aws.ecs.task.id) for the log stream's name.
            "resourcedetection": {"detectors": ["ecs"]},
            # The exporter sends a histogram's count and sum as they come: cumulative totals
            # since the service started, unless turned into each interval's share here. The
            # collector starts with the service, so a series' first value is all new.
            "cumulativetodelta": {"initial_value": "keep"},
        },
        "exporters": {"awsemf": _exporter_config(namespace, log_group_name, region)},
        "service": {
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["resourcedetection", "cumulativetodelta"],
                    "exporters": ["awsemf"],
                }
            }
        },
    }


def _scrape_config() -> dict[str, Any]:
    """The service's metrics port on the task's loopback, the exported series only."""
    return {
        "job_name": "hello-birthday",
        "scrape_interval": SCRAPE_INTERVAL,
        "static_configs": [{"targets": [f"localhost:{METRICS_PORT}"]}],
        # Every series reaching the exporter is written to the log group, even one no
        # declaration in the exporter makes a metric: keep the exported ones only (relabel
        # regexes are anchored at both ends).
        "metric_relabel_configs": [
            {
                "source_labels": ["__name__"],
                "regex": "|".join(metric.series for metric in EXPORTED),
                "action": "keep",
            }
        ],
    }


def _exporter_config(
    namespace: str, log_group_name: pulumi.Input[str], region: str
) -> dict[str, Any]:
    """Embedded-metric-format events into the metrics log group, one stream per task."""
    return {
        "region": region,
        "namespace": namespace,
        "log_group_name": log_group_name,
        "log_stream_name": "{TaskId}",
        # Only the declared dimension sets, no roll-ups: each is a billed metric.
        "dimension_rollup_option": "NoDimensionRollup",
        "metric_declarations": [
            {
                "dimensions": [list(metric.dimensions)],
                "metric_name_selectors": [f"^{metric.name}"],
            }
            for metric in EXPORTED
        ],
    }


def collector_container(
    config: Mapping[str, Any],
    log_options: Mapping[str, pulumi.Input[str]],
) -> dict[str, Any]:
    """The sidecar's container definition: non-essential, so a failing collector costs metrics,
    never the task; its configuration travels in the environment, its logs in the service's
    log group under their own stream prefix."""
    return {
        "name": COLLECTOR_CONTAINER,
        "image": COLLECTOR_IMAGE,
        "essential": False,
        "cpu": COLLECTOR_CPU,
        "memory": COLLECTOR_MEMORY_MIB,
        "readonlyRootFilesystem": True,
        "environment": [
            # JSON is YAML: the collector parses it as its configuration file.
            {"name": "AOT_CONFIG_CONTENT", "value": pulumi.Output.json_dumps(config)},
            {"name": "GOMEMLIMIT", "value": COLLECTOR_GO_MEMORY_LIMIT},
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {**log_options, "awslogs-stream-prefix": COLLECTOR_CONTAINER},
        },
    }
