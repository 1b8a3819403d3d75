"""The permissions boundary of one stack: the most that any role of the stack may ever do.

A deploy role creates and changes its stack's roles (the task, execution and blue/green
load-balancer roles of platform/access.py and platform/fargate_service.py), and IAM cannot
restrict what an inline policy or a trust policy says. So a deploy role may only write roles
that carry this boundary (permissions.py, role_statements), and IAM grants a role only what
both its own policies and its boundary allow: whatever policy a deploy role (or whoever holds
its credentials) gives a role, the role can do no more than the platform's roles need, on the
stack's own resources.

The boundary allows exactly the union of those roles' permissions, scoped to the stack's names
and tags where the roles' own policies name the resources themselves. Changing what a platform
role may do therefore needs the boundary to allow it first: change it here, run the bootstrap's
`pulumi up` as an administrator, then deploy the platform.
"""

import json

import pulumi
import pulumi_aws as aws
from account import AccountSettings, Environment
from permissions import Scope, Statement, allow, document, log_groups, registry_login


def boundary_statements(scope: Scope) -> list[Statement]:
    """What the task, execution and blue/green roles need (platform/access.py and
    fargate_service.py)."""
    balancers = "app/{short}-*/*"
    return [
        # The task role: the service's table, and the table's key through DynamoDB only.
        allow(
            "Table",
            ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem"],
            scope.named("dynamodb", "table/{prefix}"),
        ),
        allow(
            "TableKey",
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            scope.arn("kms", "key/*"),
            **scope.own_key_through_dynamodb,
        ),
        # The execution role's container logs, the task role's metrics (the collector's).
        allow("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], log_groups(scope)),
        # The execution role: the stack's image.
        allow(
            "PullImage",
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            scope.named("ecr", "repository/{prefix}"),
        ),
        registry_login(scope),
        # The blue/green role: what AWS's AmazonECSInfrastructureRolePolicyForLoadBalancers
        # grants, on the stack's application load balancer where ELB can name it (its Describe
        # calls accept only "*"), without the network load balancers it also covers (so
        # parliament reports a RESOURCE_MISMATCH on ShiftTraffic for their ARNs).
        allow(
            "ReadLoadBalancer",
            [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "*",
            **scope.in_region,
        ),
        allow(
            "ShiftTraffic",
            [
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:RegisterTargets",
            ],
            [
                scope.named("elasticloadbalancing", "targetgroup/{short}-*/*"),
                scope.named("elasticloadbalancing", f"listener/{balancers}/*"),
                scope.named("elasticloadbalancing", f"listener-rule/{balancers}/*/*"),
            ],
        ),
    ]


def permissions_boundary(
    settings: AccountSettings, environment: Environment, opts: pulumi.ResourceOptions
) -> aws.iam.Policy:
    """The stack's boundary, a managed policy named as the main program expects it."""
    scope = Scope(settings.account_id, settings.region, environment)
    name = environment.boundary_policy_name
    return aws.iam.Policy(
        name,
        name=name,
        # Compact, like the deploy policies: IAM counts every character but whitespace.
        policy=json.dumps(document(*boundary_statements(scope)), separators=(",", ":")),
        opts=opts,
    )
