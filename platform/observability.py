"""Observability: the CloudWatch dashboard and the alarms that page and roll deployments back."""

from typing import Any

import pulumi
import pulumi_aws as aws
from config import AlarmSettings

PERIOD_SECONDS = 60
LB_NAMESPACE = "AWS/ApplicationELB"


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


class Observability(pulumi.ComponentResource):
    """Alarms on the 5xx share and p99 latency at the load balancer, and one dashboard.

    The alarms have fixed names so the ECS service can name them for alarm-based rollback.
    """

    deployment_alarm_names: list[pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        settings: AlarmSettings,
        *,
        region: str,
        topic_arn: pulumi.Input[str],
        load_balancer: pulumi.Input[str],
        cluster_name: str,
        service_name: str,
        table_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hello-birthday:platform:Observability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def lb_query(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    metric_name=metric_name,
                    dimensions={"LoadBalancer": load_balancer},
                    stat="Sum",
                    namespace=LB_NAMESPACE,
                    period=PERIOD_SECONDS,
                ),
            )

        error_rate = aws.cloudwatch.MetricAlarm(
            f"{name}-5xx-rate",
            name=f"{name}-5xx-rate",
            alarm_description="Share of requests answered 5xx (app or load balancer)",
            comparison_operator="GreaterThanThreshold",
            threshold=settings.error_rate_percent,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data="notBreaching",
            metric_queries=[
                lb_query("requests", "RequestCount"),
                lb_query("app5xx", "HTTPCode_Target_5XX_Count"),
                lb_query("lb5xx", "HTTPCode_ELB_5XX_Count"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression="100 * (FILL(app5xx, 0) + FILL(lb5xx, 0)) / MAX([requests, 1])",
                    label="5xx percent",
                    return_data=True,
                ),
            ],
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            opts=child,
        )
        latency = aws.cloudwatch.MetricAlarm(
            f"{name}-p99-latency",
            name=f"{name}-p99-latency",
            alarm_description="p99 target response time",
            comparison_operator="GreaterThanThreshold",
            threshold=settings.latency_p99_milliseconds / 1000,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data="notBreaching",
            namespace=LB_NAMESPACE,
            metric_name="TargetResponseTime",
            period=PERIOD_SECONDS,
            extended_statistic="p99",
            dimensions={"LoadBalancer": load_balancer},
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            opts=child,
        )

        lb = [LB_NAMESPACE]
        service = ["ECS/ContainerInsights"]
        dynamodb = ["AWS/DynamoDB"]
        body = pulumi.Output.all(load_balancer, table_name).apply(
            lambda values: {
                "widgets": [
                    _widget("Requests", [[*lb, "RequestCount", "LoadBalancer", values[0]]], region),
                    _widget(
                        "Errors",
                        [
                            [*lb, "HTTPCode_Target_5XX_Count", "LoadBalancer", values[0]],
                            [*lb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", values[0]],
                            [*lb, "HTTPCode_Target_4XX_Count", "LoadBalancer", values[0]],
                        ],
                        region,
                    ),
                    _widget(
                        "Latency p99 (s)",
                        [[*lb, "TargetResponseTime", "LoadBalancer", values[0]]],
                        region,
                        stat="p99",
                    ),
                    _widget(
                        "Tasks",
                        [
                            [
                                *service,
                                "RunningTaskCount",
                                "ClusterName",
                                cluster_name,
                                "ServiceName",
                                service_name,
                            ],
                            [
                                *service,
                                "DesiredTaskCount",
                                "ClusterName",
                                cluster_name,
                                "ServiceName",
                                service_name,
                            ],
                        ],
                        region,
                        stat="Average",
                    ),
                    _widget(
                        "DynamoDB",
                        [
                            [*dynamodb, "ConsumedReadCapacityUnits", "TableName", values[1]],
                            [*dynamodb, "ConsumedWriteCapacityUnits", "TableName", values[1]],
                            [*dynamodb, "ThrottledRequests", "TableName", values[1]],
                            [*dynamodb, "SystemErrors", "TableName", values[1]],
                        ],
                        region,
                    ),
                ]
            }
        )
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=name,
            dashboard_body=pulumi.Output.json_dumps(body),
            opts=child,
        )

        self.deployment_alarm_names = [error_rate.name, latency.name]
        self.register_outputs({"deployment_alarm_names": self.deployment_alarm_names})
