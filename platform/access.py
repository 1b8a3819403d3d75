"""Task access: the service's log groups, its task role and the separate execution role.

Every policy here names its resources: a table, its key, a repository, and a log group's streams
as `<group ARN>:log-stream:*` (a stream's name is chosen when it is created, and IAM authorizes
writes on the stream). Only `ecr:GetAuthorizationToken`, which has no resource of its own, is
granted on `*`. Every role carries the stack's permissions boundary (the bootstrap's
platform/bootstrap/boundary.py), which IAM checks as well: a permission added here takes effect
only once the boundary allows it.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

# The service reads and writes single items and checks the table in /readyz: nothing else.
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DescribeTable")
# Reading and writing a table encrypted with a customer key needs the key, through DynamoDB only.
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
# Writing to a log group that exists; IAM authorizes both on the stream's ARN. ECS's awslogs
# driver (container logs) and the collector's awsemf exporter (metrics) need no more: the
# exporter creates a group only when it is missing, which Pulumi rules out.
LOG_WRITER_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# What ECS needs before the containers start, besides container logs: the service's image.
IMAGE_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
REGISTRY_LOGIN_ACTIONS = ("ecr:GetAuthorizationToken",)


def service_trust(service: str, account_id: str, source_arn: str | None = None) -> dict[str, Any]:
    """A role only `service` may assume, and only on behalf of this account (and resources
    matching `source_arn`): no other AWS customer can have the service act with it."""
    condition: dict[str, dict[str, str]] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return {
        "Version": "2012-10-17",
        "Statement": [
            # parliament reports MALFORMED ("neither Resource nor NotResource"): it reads every
            # document as an identity policy. A trust policy's resource is the role itself.
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }


def ecs_tasks_trust(account_id: str, region: str) -> dict[str, Any]:
    """The task and execution roles: ECS tasks of this account and region only, as the ECS
    developer guide's task IAM role page recommends."""
    return service_trust(
        "ecs-tasks.amazonaws.com", account_id, f"arn:aws:ecs:{region}:{account_id}:*"
    )


def log_writer(sid: str, log_group_arn: pulumi.Input[str]) -> dict[str, Any]:
    """A statement that lets a role write events into new streams of one log group."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(LOG_WRITER_ACTIONS),
        "Resource": pulumi.Output.concat(log_group_arn, ":log-stream:*"),
    }


def task_policy(
    table_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str],
    metrics_log_group_arn: pulumi.Input[str],
    region: str,
) -> pulumi.Output[str]:
    """The task role's only permissions: one table and its key for the service, one log group
    for the metrics collector."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Table",
                    "Effect": "Allow",
                    "Action": list(TABLE_ACTIONS),
                    "Resource": table_arn,
                },
                {
                    "Sid": "TableKey",
                    "Effect": "Allow",
                    "Action": list(KEY_ACTIONS),
                    "Resource": key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}
                    },
                },
                log_writer("Metrics", metrics_log_group_arn),
            ],
        }
    )


def execution_policy(
    log_group_arn: pulumi.Input[str], repository_arn: pulumi.Input[str] | None
) -> pulumi.Output[str]:
    """What AmazonECSTaskExecutionRolePolicy grants on every repository and log group, scoped
    to this stack's. The collector's image is public (ECR Public needs no credentials)."""
    statements = [log_writer("ContainerLogs", log_group_arn)]
    if repository_arn is not None:
        statements += [
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": list(IMAGE_PULL_ACTIONS),
                "Resource": repository_arn,
            },
            {
                # The action has no resource type: AWS accepts only "*". parliament reports
                # CREDENTIALS_EXPOSURE for it: the token it returns lets this role pull what
                # PullImage allows (this repository) and nothing more.
                "Sid": "RegistryLogin",
                "Effect": "Allow",
                "Action": list(REGISTRY_LOGIN_ACTIONS),
                "Resource": "*",
            },
        ]
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass(frozen=True)
class TaskAccessArgs:
    account_id: str
    region: str
    table_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    #: The stack's image repository; None where the stack runs no tasks (LocalStack).
    repository_arn: pulumi.Input[str] | None
    log_retention_days: int
    #: The permissions boundary of every role (config.StackSettings.permissions_boundary).
    permissions_boundary: str | None


class TaskAccess(pulumi.ComponentResource):
    """What a running task may touch, and where its logs and metrics go."""

    log_group_name: pulumi.Output[str]
    metrics_log_group_name: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    #: Every policy of both roles: whatever runs with the roles must wait for all of them.
    policies: Sequence[pulumi.Resource]

    def __init__(
        self, name: str, args: TaskAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:TaskAccess", name, None, opts)
        self._name = name
        self._args = args
        log_group = self._log_group("logs", f"/ecs/{name}")
        # The collector's embedded-metric-format events: CloudWatch extracts the metrics as they
        # arrive, and the events stay out of the service's own log searches.
        metrics_log_group = self._log_group("metrics", f"/ecs/{name}/metrics")
        task_role, task_role_policy = self._role(
            "task",
            task_policy(args.table_arn, args.key_arn, metrics_log_group.arn, args.region),
        )
        # Pulling the image and writing logs happen before the app starts: a different identity.
        execution_role, execution_role_policy = self._role(
            "execution", execution_policy(log_group.arn, args.repository_arn)
        )

        self.log_group_name = log_group.name
        self.metrics_log_group_name = metrics_log_group.name
        self.task_role_arn = task_role.arn
        self.execution_role_arn = execution_role.arn
        self.policies = [task_role_policy, execution_role_policy]
        self.register_outputs(
            {
                "log_group_name": self.log_group_name,
                "metrics_log_group_name": self.metrics_log_group_name,
                "task_role_arn": self.task_role_arn,
                "execution_role_arn": self.execution_role_arn,
            }
        )

    def _log_group(self, suffix: str, group_name: str) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{self._name}-{suffix}",
            name=group_name,
            retention_in_days=self._args.log_retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _role(
        self, suffix: str, policy: pulumi.Input[str]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """A role only this account's ECS tasks may assume, and its one inline policy."""
        args = self._args
        role = aws.iam.Role(
            f"{self._name}-{suffix}",
            assume_role_policy=json.dumps(ecs_tasks_trust(args.account_id, args.region)),
            permissions_boundary=args.permissions_boundary,
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{self._name}-{suffix}",
            role=role.id,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role, role_policy
