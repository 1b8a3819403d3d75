"""The service's metrics path on AWS: the service's exposition -> the collector sidecar's
configuration -> the CloudWatch metrics the dashboard and the store-errors alarm read."""

import asyncio
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import jsonschema
import pytest
import yaml
from collector import EXPORTED, STORE_ERRORS, STORE_LATENCY
from observability import STORE_OPERATIONS
from prometheus_client.parser import text_string_to_metric_families
from stack_builds import COMPUTE_STACKS, PROJECT, StackBuild
from test_documents import dashboard_body
from test_stacks import alarm_metrics, alarms, environment, setting

from hello_birthday.metrics import MeteredStore, Metrics
from hello_birthday.ports import METRICS_PORT

Build = Callable[[str], StackBuild]

# The components ADOT v0.49.0 builds in that this configuration uses (pkg/defaultcomponents/
# defaults.go of aws-observability/aws-otel-collector at that tag): a name it does not know
# stops the collector at start.
ADOT_COMPONENTS = {
    "receivers": {"prometheus"},
    "processors": {"resourcedetection", "cumulativetodelta"},
    "exporters": {"awsemf"},
}


def closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly these keys (the collector decodes its configuration strictly:
    an unknown key is an error at start)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


STRINGS = {"type": "array", "items": {"type": "string"}}
# The keys and types of each component this configuration sets, transcribed from the
# collector's own config schemas at contrib v0.156.0 (exporter/awsemfexporter/,
# processor/cumulativetodeltaprocessor/, processor/resourcedetectionprocessor/ and
# receiver/prometheusreceiver/ config.schema.yaml; the prometheus receiver's `config` is
# Prometheus' own scrape configuration). Only what is used here: a new key belongs here first.
COLLECTOR_SCHEMA = closed(
    {
        "receivers": closed(
            {
                "prometheus": closed(
                    {
                        "config": closed(
                            {
                                "scrape_configs": {
                                    "type": "array",
                                    "items": closed(
                                        {
                                            "job_name": {"type": "string"},
                                            "scrape_interval": {
                                                "type": "string",
                                                "pattern": "^[0-9]+[smh]$",
                                            },
                                            "static_configs": {
                                                "type": "array",
                                                "items": closed({"targets": STRINGS}),
                                            },
                                            "metric_relabel_configs": {
                                                "type": "array",
                                                "items": closed(
                                                    {
                                                        "source_labels": STRINGS,
                                                        "regex": {"type": "string"},
                                                        "action": {"enum": ["keep", "drop"]},
                                                    }
                                                ),
                                            },
                                        },
                                        required=("job_name", "static_configs"),
                                    ),
                                }
                            }
                        )
                    }
                )
            }
        ),
        "processors": closed(
            {
                "resourcedetection": closed({"detectors": STRINGS}),
                "cumulativetodelta": closed({"initial_value": {"enum": ["auto", "keep", "drop"]}}),
            }
        ),
        "exporters": closed(
            {
                "awsemf": closed(
                    {
                        "region": {"type": "string"},
                        "namespace": {"type": "string"},
                        "log_group_name": {"type": "string"},
                        "log_stream_name": {"type": "string"},
                        "dimension_rollup_option": {
                            "enum": [
                                "ZeroAndSingleDimensionRollup",
                                "SingleDimensionRollupOnly",
                                "NoDimensionRollup",
                            ]
                        },
                        "metric_declarations": {
                            "type": "array",
                            "items": closed(
                                {
                                    "dimensions": {"type": "array", "items": STRINGS},
                                    "metric_name_selectors": STRINGS,
                                }
                            ),
                        },
                    }
                )
            }
        ),
        "service": closed(
            {
                "pipelines": closed(
                    {
                        "metrics": closed(
                            {"receivers": STRINGS, "processors": STRINGS, "exporters": STRINGS},
                            required=("receivers", "exporters"),
                        )
                    }
                )
            }
        ),
    },
    required=("receivers", "exporters", "service"),
)


def collector_config(build: StackBuild) -> dict[str, Any]:
    """The collector's configuration as it parses it: YAML, from its container's environment."""
    content = environment(build, "collector")["AOT_CONFIG_CONTENT"]
    assert "$" not in content  # the collector would expand it from its environment
    config = yaml.safe_load(content)
    assert isinstance(config, dict)
    return config


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_collector_config_has_the_collectors_structure(built: Build, stack: str) -> None:
    jsonschema.validate(collector_config(built(stack)), COLLECTOR_SCHEMA)


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_collector_pipeline_uses_every_component_it_defines_and_only_those(
    built: Build, stack: str
) -> None:
    config = collector_config(built(stack))
    (pipeline,) = config["service"]["pipelines"].values()
    for kind, known in ADOT_COMPONENTS.items():
        defined = set(config[kind])
        assert defined <= known, kind
        assert set(pipeline.get(kind, [])) == defined, kind


def test_the_collector_schema_rejects_a_misspelt_key(built: Build) -> None:
    config = collector_config(built("dev"))
    exporter = config["exporters"]["awsemf"]
    exporter["log_group"] = exporter.pop("log_group_name")
    with pytest.raises(jsonschema.ValidationError, match="log_group"):
        jsonschema.validate(config, COLLECTOR_SCHEMA)


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_collector_scrapes_the_metrics_port_on_loopback_and_writes_to_the_metrics_group(
    built: Build, stack: str
) -> None:
    build = built(stack)
    config = collector_config(build)
    (scrape,) = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    assert scrape["static_configs"] == [{"targets": [f"localhost:{METRICS_PORT}"]}]
    exporter = config["exporters"]["awsemf"]
    assert exporter["namespace"] == f"{PROJECT}-{stack}"
    assert exporter["log_group_name"] == f"/ecs/{PROJECT}-{stack}/metrics"
    assert exporter["region"] == setting(stack, "region")
    # Sums and histograms reach the exporter as each interval's share.
    assert config["processors"]["cumulativetodelta"] == {"initial_value": "keep"}


def family(metric_name: str) -> str:
    """The family name the Prometheus parser gives a metric (a counter's without `_total`)."""
    return metric_name.removesuffix("_total")


class NoStore:
    """A store that answers at once: the service's own MeteredStore wraps it."""

    async def get(self, username: str) -> date | None:
        return None

    async def put(self, username: str, born: date) -> None:
        return None

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def exposition() -> dict[str, set[tuple[str, frozenset[tuple[str, str]]]]]:
    """What the service serves on its metrics port after a request and one call of each kind:
    series name -> label sets, by metric family."""
    metrics = Metrics()
    store = MeteredStore(NoStore(), metrics)

    async def calls() -> None:
        await store.get("someone")
        await store.put("someone", date(2000, 1, 1))
        await store.check()

    # A loop of its own, left unset: Pulumi's runtime keeps using the thread's loop.
    loop = asyncio.new_event_loop()
    loop.run_until_complete(calls())
    loop.close()
    metrics.observe_request("/hello/{username}", "GET", 200, 0.01)
    families: dict[str, set[tuple[str, frozenset[tuple[str, str]]]]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            labels = frozenset(sample.labels.items())
            families.setdefault(family.name, set()).add((sample.name, labels))
    return families


def test_the_collector_keeps_exactly_the_exported_metrics_series(
    built: Build, exposition: dict[str, set[tuple[str, frozenset[tuple[str, str]]]]]
) -> None:
    (scrape,) = collector_config(built("dev"))["receivers"]["prometheus"]["config"][
        "scrape_configs"
    ]
    (keep,) = scrape["metric_relabel_configs"]
    assert (keep["source_labels"], keep["action"]) == (["__name__"], "keep")
    kept = {
        series
        for samples in exposition.values()
        for series, _ in samples
        if re.fullmatch(keep["regex"], series)  # Prometheus anchors relabel regexes
    }
    expected = {series for metric in EXPORTED for series, _ in exposition[family(metric.name)]}
    assert kept == expected


def test_exported_dimensions_are_labels_the_service_sets(
    built: Build, exposition: dict[str, set[tuple[str, frozenset[tuple[str, str]]]]]
) -> None:
    declarations = collector_config(built("dev"))["exporters"]["awsemf"]["metric_declarations"]
    for metric, declaration in zip(EXPORTED, declarations, strict=True):
        assert declaration["metric_name_selectors"] == [f"^{metric.name}"]
        (dimensions,) = declaration["dimensions"]
        for _, labels in exposition[family(metric.name)]:
            assert set(dimensions) <= dict(labels).keys()


def test_the_platform_knows_every_store_operation_the_service_reports(
    exposition: dict[str, set[tuple[str, frozenset[tuple[str, str]]]]],
) -> None:
    for metric in (STORE_LATENCY, STORE_ERRORS):
        operations = {dict(labels)["operation"] for _, labels in exposition[family(metric.name)]}
        assert operations == set(STORE_OPERATIONS)


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_store_errors_alarm_sums_every_operations_errors(built: Build, stack: str) -> None:
    alarm = alarms(built(stack))["store-errors"]
    metrics = alarm_metrics(alarm).values()
    assert sorted(metric["dimensions"]["operation"] for metric in metrics) == sorted(
        STORE_OPERATIONS
    )
    for metric in metrics:
        assert metric["namespace"] == f"{PROJECT}-{stack}"
        assert metric["metricName"] == "store_errors_total"
        assert metric["stat"] == "Sum"
    assert alarm["threshold"] == 0
    assert (alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (3, 2)
    assert alarm["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_dashboard_shows_store_latency_and_errors_and_latency_by_route(
    built: Build, stack: str
) -> None:
    namespace = f"{PROJECT}-{stack}"
    widgets = {
        widget["properties"]["title"]: widget["properties"]
        for widget in dashboard_body(built(stack))["widgets"]
    }
    latency, errors = widgets["Store latency, average (s)"], widgets["Store errors"]
    assert latency["stat"] == "Average"
    assert latency["metrics"] == [
        [namespace, "store_call_duration_seconds", "operation", operation]
        for operation in STORE_OPERATIONS
    ]
    assert errors["stat"] == "Sum"
    assert errors["metrics"] == [
        [namespace, "store_errors_total", "operation", operation] for operation in STORE_OPERATIONS
    ]
    ((search,),) = widgets["Latency by route, average (s)"]["metrics"]
    assert search["expression"] == (
        f"SEARCH('{{{namespace},route}} MetricName=\"http_request_duration_seconds\"', "
        "'Average', 60)"
    )
    assert json.dumps(widgets)  # plain JSON throughout
