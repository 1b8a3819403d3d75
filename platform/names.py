"""Names that several components must agree on.

CloudWatch finds the ECS service by its cluster's and its own name (alarms, dashboard, scaling);
the deploy program finds the service's container by its name in the stack's outputs, and each
container's logs are under its name. AWS's own metrics are in fixed namespaces; the service's
own are in the stack's (config.StackSettings.metrics_namespace).
"""

#: The ECS service in every stack; its cluster is named for the stack.
SERVICE_NAME = "hello-birthday"
#: The task's containers: the service itself, and the metrics collector beside it.
APP_CONTAINER = "app"
COLLECTOR_CONTAINER = "collector"

LB_NAMESPACE = "AWS/ApplicationELB"
ECS_NAMESPACE = "ECS/ContainerInsights"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"

# Liveness only (no store call), for the load balancer and the container alike: a short
# DynamoDB outage must not mark every task unhealthy and empty the target group; the service
# answers 503 per request instead.
HEALTH_CHECK_PATH = "/healthz"
