"""Scaling: target tracking on CPU and on requests per task, within per-environment bounds."""

import pulumi
import pulumi_aws as aws
from config import ScalingSettings

SCALE_IN_COOLDOWN_SECONDS = 300
SCALE_OUT_COOLDOWN_SECONDS = 60


class Scaling(pulumi.ComponentResource):
    """Scales out fast and in slowly, on whichever of CPU or request rate asks for more tasks."""

    def __init__(
        self,
        name: str,
        settings: ScalingSettings,
        *,
        cluster_name: pulumi.Input[str],
        service_name: pulumi.Input[str],
        request_count_label: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hello-birthday:platform:Scaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        target = aws.appautoscaling.Target(
            f"{name}-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster_name, "/", service_name),
            min_capacity=settings.min_tasks,
            max_capacity=settings.max_tasks,
            opts=child,
        )
        metrics = {
            "cpu": (
                aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ECSServiceAverageCPUUtilization"
                ),
                settings.cpu_target_percent,
            ),
            "requests": (
                aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ALBRequestCountPerTarget",
                    resource_label=request_count_label,
                ),
                settings.requests_per_target,
            ),
        }
        for metric_name, (metric, target_value) in metrics.items():
            aws.appautoscaling.Policy(
                f"{name}-{metric_name}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    predefined_metric_specification=metric,
                    target_value=target_value,
                    scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                    scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                ),
                opts=child,
            )
        self.register_outputs({"resource_id": target.resource_id})
