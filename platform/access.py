"""Task access: the service's log group, its task role and the separate execution role."""

import json

import pulumi
import pulumi_aws as aws

# The service reads and writes single items and checks the table in /readyz: nothing else.
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DescribeTable")
# Reading and writing a table encrypted with a customer key needs the key, through DynamoDB only.
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_TASKS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def task_policy(
    table_arn: pulumi.Input[str], key_arn: pulumi.Input[str], region: str
) -> pulumi.Output[str]:
    """The task role's only permissions, scoped to one table and its key."""
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
            ],
        }
    )


class TaskAccess(pulumi.ComponentResource):
    """What a running task may touch, and where its logs go."""

    log_group_name: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        table_arn: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        region: str,
        log_retention_days: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hello-birthday:platform:TaskAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/ecs/{name}",
            retention_in_days=log_retention_days,
            opts=child,
        )
        task_role = aws.iam.Role(f"{name}-task", assume_role_policy=ECS_TASKS_TRUST, opts=child)
        aws.iam.RolePolicy(
            f"{name}-task",
            role=task_role.id,
            policy=task_policy(table_arn, key_arn, region),
            opts=child,
        )
        # Pulling the image and writing logs happen before the app starts: a different identity.
        execution_role = aws.iam.Role(
            f"{name}-execution", assume_role_policy=ECS_TASKS_TRUST, opts=child
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-execution", role=execution_role.name, policy_arn=EXECUTION_POLICY, opts=child
        )

        self.log_group_name = log_group.name
        self.task_role_arn = task_role.arn
        self.execution_role_arn = execution_role.arn
        self.register_outputs(
            {
                "log_group_name": self.log_group_name,
                "task_role_arn": self.task_role_arn,
                "execution_role_arn": self.execution_role_arn,
            }
        )
