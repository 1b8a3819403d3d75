"""Scaling: target tracking on CPU and on requests per task, within per-environment bounds."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from config import ScalingSettings
from names import ECS_NAMESPACE, LB_NAMESPACE

SCALE_IN_COOLDOWN_SECONDS = 300
SCALE_OUT_COOLDOWN_SECONDS = 60
TrackingConfiguration = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgsDict
MetricQuery = (
    aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgsDict
)  # fmt: skip


def _input(
    query_id: str, namespace: str, metric_name: str, stat: str, **dimensions: pulumi.Input[str]
) -> MetricQuery:
    """One input of the policy's expression (not itself the tracked value)."""
    return {
        "id": query_id,
        "metric_stat": {
            "metric": {
                "namespace": namespace,
                "metric_name": metric_name,
                "dimensions": [{"name": key, "value": value} for key, value in dimensions.items()],
            },
            "stat": stat,
        },
        # Application Auto Scaling returns every query unless told not to.
        "return_data": False,
    }


@dataclass(frozen=True)
class ScalingArgs:
    settings: ScalingSettings
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]


class Scaling(pulumi.ComponentResource):
    """Scales out fast and in slowly, on whichever of CPU or request rate asks for more tasks.

    Requests per task are the load balancer's requests over the running tasks, not
    ALBRequestCountPerTarget: that names one target group, and ECS blue/green moves the live
    tasks to the other group on a deployment. The load balancer counts both groups' requests.
    """

    def __init__(
        self, name: str, args: ScalingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Scaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        target = aws.appautoscaling.Target(
            f"{name}-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", args.cluster_name, "/", args.service_name),
            min_capacity=args.settings.min_tasks,
            max_capacity=args.settings.max_tasks,
            opts=child,
        )
        for metric_name, tracking in _tracking_policies(args).items():
            aws.appautoscaling.Policy(
                f"{name}-{metric_name}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={
                    **tracking,
                    "scale_in_cooldown": SCALE_IN_COOLDOWN_SECONDS,
                    "scale_out_cooldown": SCALE_OUT_COOLDOWN_SECONDS,
                },
                opts=child,
            )
        self.register_outputs({"resource_id": target.resource_id})


def _tracking_policies(args: ScalingArgs) -> dict[str, TrackingConfiguration]:
    """Each policy's tracked value and target, by the name that ends the policy's name."""
    requests = _input(
        "requests", LB_NAMESPACE, "RequestCount", "Sum", LoadBalancer=args.load_balancer_arn_suffix
    )
    tasks = _input(
        "tasks",
        ECS_NAMESPACE,
        "RunningTaskCount",
        "Average",
        ClusterName=args.cluster_name,
        ServiceName=args.service_name,
    )
    return {
        "cpu": {
            "predefined_metric_specification": {
                "predefined_metric_type": "ECSServiceAverageCPUUtilization"
            },
            "target_value": args.settings.cpu_target_percent,
        },
        "requests": {
            "customized_metric_specification": {
                "metrics": [
                    requests,
                    tasks,
                    {
                        "id": "per_task",
                        "expression": "requests / tasks",
                        "label": "Requests per running task per minute",
                        "return_data": True,
                    },
                ]
            },
            "target_value": args.settings.requests_per_target,
        },
    }
