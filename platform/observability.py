"""Observability: the CloudWatch dashboard and the alarms that page and roll deployments back."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from collector import REQUEST_LATENCY, STORE_ERRORS, STORE_LATENCY
from config import AlarmSettings
from names import DYNAMODB_NAMESPACE, ECS_NAMESPACE, LB_NAMESPACE

PERIOD_SECONDS = 60
# DynamoDB reports throttles and system errors per operation only: these are the data-plane
# calls the task role allows (access.py); DescribeTable has no such metrics.
TABLE_OPERATIONS = ("GetItem", "PutItem")
# The service's store calls, the `operation` label of its store metrics (hello_birthday.metrics).
STORE_OPERATIONS = ("get", "put", "check")


@dataclass(frozen=True)
class Evaluation:
    """When an alarm fires: `breaching` of the last `periods` one-minute values, and what a
    minute without data counts as."""

    periods: int
    breaching: int
    missing_data: str


# A short blip pages nobody; a real regression fires (and rolls back) within three minutes.
TWO_OF_THREE = Evaluation(periods=3, breaching=2, missing_data="notBreaching")
# Unhealthy targets for three minutes in a row: longer than a task restart.
THREE_IN_A_ROW = Evaluation(periods=3, breaching=3, missing_data="notBreaching")
# Scale-out leaves running below desired for 1 to 3 minutes; five minutes is a real shortage.
# No data means Container Insights lost the service, which must not look healthy.
FIVE_IN_A_ROW_NO_DATA_BREACHES = Evaluation(periods=5, breaching=5, missing_data="breaching")


def _widget(title: str, metrics: list[list[Any]], region: str, stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "stat": stat,
            "period": PERIOD_SECONDS,
            "metrics": metrics,
        },
    }


def _metric(
    query_id: str,
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    stat: str,
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            metric_name=metric_name,
            dimensions=dimensions,
            stat=stat,
            namespace=namespace,
            period=PERIOD_SECONDS,
        ),
    )


def _expression(
    query_id: str, expression: str, label: str
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    """The query the alarm compares with its threshold."""
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id, expression=expression, label=label, return_data=True
    )


@dataclass(frozen=True)
class ObservabilityArgs:
    settings: AlarmSettings
    region: str
    #: Where every alarm notifies (alerts.Alerts).
    topic_arn: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffixes: Sequence[pulumi.Input[str]]
    cluster_name: str
    service_name: str
    table_name: pulumi.Input[str]
    #: The CloudWatch namespace of the service's own metrics (config.StackSettings).
    metrics_namespace: str


class Observability(pulumi.ComponentResource):
    """Alarms to the SNS topic, on alarm and on recovery, and one dashboard.

    The 5xx-share and p99-latency alarms also roll deployments back; they have fixed names so
    the ECS service can name them. The others page only: unhealthy targets, DynamoDB throttles
    or system errors, failing store calls, and fewer running tasks than desired.
    """

    deployment_alarm_names: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Observability", name, None, opts)
        self._name = name
        self._topic_arn = args.topic_arn
        self._on_balancer = {"LoadBalancer": args.load_balancer_arn_suffix}
        self._on_service = {"ClusterName": args.cluster_name, "ServiceName": args.service_name}
        self._namespace = args.metrics_namespace

        error_rate = self._error_rate_alarm(args.settings)
        latency = self._latency_alarm(args.settings)
        self._unhealthy_hosts_alarm(args.load_balancer_arn_suffix, args.target_group_arn_suffixes)
        self._table_errors_alarm(args.table_name)
        self._store_errors_alarm()
        self._running_tasks_alarm()
        self._dashboard(args.region, args.load_balancer_arn_suffix, args.table_name)

        self.deployment_alarm_names = [error_rate.name, latency.name]
        self.register_outputs({"deployment_alarm_names": self.deployment_alarm_names})

    def _error_rate_alarm(self, settings: AlarmSettings) -> aws.cloudwatch.MetricAlarm:
        requests_and_5xx = [
            _metric(query_id, LB_NAMESPACE, metric_name, self._on_balancer, "Sum")
            for query_id, metric_name in (
                ("requests", "RequestCount"),
                ("app5xx", "HTTPCode_Target_5XX_Count"),
                ("lb5xx", "HTTPCode_ELB_5XX_Count"),
            )
        ]
        return self._alarm(
            "5xx-rate",
            "Share of requests answered 5xx (app or load balancer)",
            threshold=settings.error_rate_percent,
            evaluation=TWO_OF_THREE,
            metric_queries=[
                *requests_and_5xx,
                _expression(
                    "rate",
                    "100 * (FILL(app5xx, 0) + FILL(lb5xx, 0)) / MAX([requests, 1])",
                    "5xx percent",
                ),
            ],
        )

    def _latency_alarm(self, settings: AlarmSettings) -> aws.cloudwatch.MetricAlarm:
        return self._alarm(
            "p99-latency",
            "p99 target response time",
            threshold=settings.latency_p99_milliseconds / 1000,
            evaluation=TWO_OF_THREE,
            namespace=LB_NAMESPACE,
            metric_name="TargetResponseTime",
            period=PERIOD_SECONDS,
            extended_statistic="p99",
            dimensions=self._on_balancer,
        )

    def _unhealthy_hosts_alarm(
        self, load_balancer: pulumi.Input[str], target_groups: Sequence[pulumi.Input[str]]
    ) -> None:
        # Blue/green moves the service to the other target group on every deployment: watch both.
        unhealthy = [
            _metric(
                f"group{index}",
                LB_NAMESPACE,
                "UnHealthyHostCount",
                {"TargetGroup": target_group, "LoadBalancer": load_balancer},
                "Maximum",
            )
            for index, target_group in enumerate(target_groups)
        ]
        self._any_counted(
            "unhealthy-hosts",
            "Targets failing the load balancer health check (/healthz)",
            unhealthy,
            evaluation=THREE_IN_A_ROW,
        )

    def _table_errors_alarm(self, table_name: pulumi.Input[str]) -> None:
        table_errors = [
            _metric(
                f"{short}_{operation.lower()}",
                DYNAMODB_NAMESPACE,
                metric_name,
                {"TableName": table_name, "Operation": operation},
                "Sum",
            )
            for short, metric_name in (
                ("throttled", "ThrottledRequests"),
                ("failed", "SystemErrors"),
            )
            for operation in TABLE_OPERATIONS
        ]
        self._any_counted(
            "dynamodb-errors",
            "DynamoDB throttled requests or system errors on the table",
            table_errors,
            evaluation=TWO_OF_THREE,
        )

    def _store_errors_alarm(self) -> None:
        store_errors = [
            _metric(operation, self._namespace, STORE_ERRORS.name, {"operation": operation}, "Sum")
            for operation in STORE_OPERATIONS
        ]
        self._any_counted(
            "store-errors",
            "Store calls failed (the service answered 503)",
            store_errors,
            evaluation=TWO_OF_THREE,
        )

    def _running_tasks_alarm(self) -> None:
        on_service = self._on_service
        self._alarm(
            "running-tasks",
            "Fewer running tasks than desired (Container Insights)",
            threshold=0,
            evaluation=FIVE_IN_A_ROW_NO_DATA_BREACHES,
            metric_queries=[
                _metric("running", ECS_NAMESPACE, "RunningTaskCount", on_service, "Average"),
                _metric("desired", ECS_NAMESPACE, "DesiredTaskCount", on_service, "Average"),
                _expression("missing", "desired - running", "missing tasks"),
            ],
        )

    def _alarm(
        self,
        suffix: str,
        description: str,
        *,
        threshold: float,
        evaluation: Evaluation,
        **metric: Any,
    ) -> aws.cloudwatch.MetricAlarm:
        """An alarm named `<name>-<suffix>` above `threshold`, notifying the topic both ways.

        `metric` is either `metric_queries` or a single metric's fields.
        """
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{suffix}",
            name=f"{self._name}-{suffix}",
            alarm_description=description,
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            evaluation_periods=evaluation.periods,
            datapoints_to_alarm=evaluation.breaching,
            treat_missing_data=evaluation.missing_data,
            alarm_actions=[self._topic_arn],
            ok_actions=[self._topic_arn],
            opts=pulumi.ResourceOptions(parent=self),
            **metric,
        )

    def _any_counted(
        self,
        suffix: str,
        description: str,
        counts: Sequence[aws.cloudwatch.MetricAlarmMetricQueryArgs],
        *,
        evaluation: Evaluation,
    ) -> None:
        """An alarm when the counts, added up per minute, are above zero."""
        # A minute in which one series reported nothing counts as zero for that series.
        total = " + ".join(f"FILL({count.id}, 0)" for count in counts)
        self._alarm(
            suffix,
            description,
            threshold=0,
            evaluation=evaluation,
            metric_queries=[*counts, _expression("total", total, description)],
        )

    def _dashboard(
        self, region: str, load_balancer: pulumi.Input[str], table_name: pulumi.Input[str]
    ) -> None:
        body = pulumi.Output.all(load_balancer, table_name).apply(
            lambda values: {
                "widgets": [
                    *_load_balancer_widgets(values[0], region),
                    _tasks_widget(self._on_service, region),
                    _table_widget(values[1], region),
                    *_service_widgets(self._namespace, region),
                ]
            }
        )
        aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=self._name,
            dashboard_body=pulumi.Output.json_dumps(body),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _load_balancer_widgets(load_balancer: str, region: str) -> list[dict[str, Any]]:
    on_balancer = ["LoadBalancer", load_balancer]
    return [
        _widget("Requests", [[LB_NAMESPACE, "RequestCount", *on_balancer]], region),
        _widget(
            "Errors",
            [
                [LB_NAMESPACE, metric, *on_balancer]
                for metric in (
                    "HTTPCode_Target_5XX_Count",
                    "HTTPCode_ELB_5XX_Count",
                    "HTTPCode_Target_4XX_Count",
                )
            ],
            region,
        ),
        _widget(
            "Latency p99 (s)",
            [[LB_NAMESPACE, "TargetResponseTime", *on_balancer]],
            region,
            stat="p99",
        ),
    ]


def _tasks_widget(on_service: Mapping[str, str], region: str) -> dict[str, Any]:
    dimensions = [part for item in on_service.items() for part in item]
    return _widget(
        "Tasks",
        [
            [ECS_NAMESPACE, "RunningTaskCount", *dimensions],
            [ECS_NAMESPACE, "DesiredTaskCount", *dimensions],
        ],
        region,
        stat="Average",
    )


def _table_widget(table_name: str, region: str) -> dict[str, Any]:
    on_table = ["TableName", table_name]
    return _widget(
        "DynamoDB",
        [
            [DYNAMODB_NAMESPACE, "ConsumedReadCapacityUnits", *on_table],
            [DYNAMODB_NAMESPACE, "ConsumedWriteCapacityUnits", *on_table],
            *(
                [DYNAMODB_NAMESPACE, metric, *on_table, "Operation", operation]
                for metric in ("ThrottledRequests", "SystemErrors")
                for operation in TABLE_OPERATIONS
            ),
        ],
        region,
    )


def _service_widgets(namespace: str, region: str) -> list[dict[str, Any]]:
    """The service's own metrics, as the collector writes them into `namespace`."""
    return [
        # The collector sends histograms as each interval's count and sum: the average is
        # exact, percentiles are not available (the load balancer's p99 covers requests).
        _widget(
            "Store latency, average (s)",
            [
                [namespace, STORE_LATENCY.name, "operation", operation]
                for operation in STORE_OPERATIONS
            ],
            region,
            stat="Average",
        ),
        _widget(
            "Store errors",
            [
                [namespace, STORE_ERRORS.name, "operation", operation]
                for operation in STORE_OPERATIONS
            ],
            region,
        ),
        _widget(
            "Latency by route, average (s)",
            [[{"expression": _by_route(namespace), "id": "routes"}]],
            region,
            stat="Average",
        ),
    ]


def _by_route(namespace: str) -> str:
    """Every route's series, whichever routes the service has (a metric-math search)."""
    schema = f"{{{namespace},{','.join(REQUEST_LATENCY.dimensions)}}}"
    query = f'{schema} MetricName="{REQUEST_LATENCY.name}"'
    return f"SEARCH('{query}', 'Average', {PERIOD_SECONDS})"
