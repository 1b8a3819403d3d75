"""The AWS managed policies the platform attaches to its roles, as AWS publishes them in the
AWS Managed Policy Reference Guide: AWS keeps their documents, so the tests read them here.
A policy the platform starts attaching must be added, or the tests that need it fail."""

from typing import Any

ELB = "arn:aws:elasticloadbalancing:*:*"
MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    # Version v6 (the default since 2026-02-12).
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ELBReadOperations",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                "Resource": "*",
            },
            {
                "Sid": "TargetGroupOperations",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                ],
                "Resource": f"{ELB}:targetgroup/*/*",
            },
            {
                "Sid": "ALBModifyListeners",
                "Effect": "Allow",
                "Action": "elasticloadbalancing:ModifyListener",
                "Resource": [f"{ELB}:listener/app/*/*/*"],
            },
            {
                "Sid": "NLBModifyListeners",
                "Effect": "Allow",
                "Action": "elasticloadbalancing:ModifyListener",
                "Resource": [f"{ELB}:listener/net/*/*/*"],
            },
            {
                "Sid": "ALBModifyRules",
                "Effect": "Allow",
                "Action": "elasticloadbalancing:ModifyRule",
                "Resource": [f"{ELB}:listener-rule/app/*/*/*/*"],
            },
        ],
    },
}
