"""What the deploy and preview roles may do: IAM policy documents built from the account's settings.

A deploy role may do what `pulumi up` of its one stack does (platform/*.py creates the resources),
what the deploy program checks afterwards with boto3 and what the workflow does to push the image
into the stack's registry: nothing more, and nothing on another stack's resources. Resources are
scoped by the names the main program gives them (`hello-birthday-<stack>...`, `hb-<stack>...`)
and, where AWS names a resource by a random id (EC2, KMS keys, ACM certificates), by the tags its
provider puts on everything (`Project`, `Environment`). Where an action accepts only "*", its
statement says so and is held to the account's region. The roles a deploy role writes must carry
the stack's permissions boundary (boundary.py), which caps whatever policy it gives them.

The preview role may read what `pulumi preview` (and `--refresh`) reads, for every stack of the
account, and no data: no DynamoDB items, no S3 objects other than the state bucket's, no secrets.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from account import WORKLOAD_PROJECT, AccountSettings, Dns, Environment

Statement = dict[str, Any]
Document = dict[str, Any]
#: One ARN pattern, or several; the state key's ARN is known only once it exists.
Resources = str | pulumi.Output[str] | Sequence[str]

#: The one policy the main program attaches to a role (its blue/green role,
#: platform/fargate_service.py).
ATTACHABLE_POLICIES = ("arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",)
#: Role writes that take IAM's `iam:PermissionsBoundary` condition key (the service authorization
#: reference): each must set, or find on the role, the stack's boundary. AttachRolePolicy takes it
#: too, in a statement of its own that also names the one policy it may attach.
BOUNDED_ROLE_WRITES = (
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
#: Who the main program's roles are for: tasks (task and execution roles) and ECS itself
#: (the blue/green load balancer role).
PASSED_TO = ("ecs-tasks.amazonaws.com", "ecs.amazonaws.com")
#: Service-linked roles AWS creates on the first ECS service, load balancer and ECS scaling target.
SERVICE_LINKED_ROLES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "ecs.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
}
#: EC2 resources of the network (platform/network.py, security groups of edge.py and
#: fargate_service.py).
NETWORK_TYPES = (
    "vpc",
    "subnet",
    "internet-gateway",
    "route-table",
    "elastic-ip",
    "natgateway",
    "vpc-endpoint",
    "security-group",
    "security-group-rule",
)


def document(*statements: Statement) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(sid: str, actions: Sequence[str], resources: Resources, **condition: Any) -> Statement:
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": (resources if isinstance(resources, str | pulumi.Output) else list(resources)),
    }
    if condition:
        statement["Condition"] = condition
    return statement


@dataclass(frozen=True)
class Scope:
    """The account and region, and the one stack whose resources a document covers."""

    account_id: str
    region: str
    environment: Environment

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"

    def named(self, service: str, template: str, *, regional: bool = True) -> str:
        """The ARN of the stack's resources; `{prefix}` and `{short}` are its name prefixes."""
        env = self.environment
        resource = template.format(prefix=env.name_prefix, short=env.short_name_prefix)
        return self.arn(service, resource, regional=regional)

    @property
    def boundary_arn(self) -> str:
        """The stack's permissions boundary (boundary.py); IAM names a policy by name, as here."""
        name = self.environment.boundary_policy_name
        return self.arn("iam", f"policy/{name}", regional=False)

    @property
    def in_region(self) -> dict[str, Any]:
        """For actions that accept only "*": the account's region, nowhere else."""
        return {"StringEquals": {"aws:RequestedRegion": self.region}}

    @property
    def own_key_through_dynamodb(self) -> dict[str, Any]:
        """A KMS key that carries the stack's tags, used by DynamoDB on the caller's behalf."""
        via = {"kms:ViaService": f"dynamodb.{self.region}.amazonaws.com"}
        return {"StringEquals": self.tagged()["StringEquals"] | via}

    def tagged(self, key: str = "aws:ResourceTag") -> dict[str, Any]:
        """The resource (or, with aws:RequestTag, the one being created) is the stack's."""
        return {
            "StringEquals": {
                f"{key}/Project": WORKLOAD_PROJECT,
                f"{key}/Environment": self.environment.stack,
            }
        }


def log_groups(scope: Scope) -> list[str]:
    """The stack's log groups, `/ecs/<prefix>` and any below it, with their streams (`:*`)."""
    return [
        scope.named("logs", f"log-group:/ecs/{{prefix}}{suffix}") for suffix in ("", ":*", "/*")
    ]


def registry_login(scope: Scope) -> Statement:
    """The registry login token is account-wide: ECR accepts only "*"."""
    return allow("RegistryLogin", ["ecr:GetAuthorizationToken"], "*", **scope.in_region)


def zone_arn(dns: Dns) -> str:
    return f"arn:aws:route53:::hostedzone/{dns.hosted_zone_id}"


# --- reading: refresh and preview ---------------------------------------------------------------

# Describe, List and Get calls that accept only "*" (EC2, ELB and Auto Scaling have no
# resource-level permissions for them): metadata only, no user data or secrets among them.
READ_ANYWHERE = (
    "ec2:DescribeAddresses",
    "ec2:DescribeAddressesAttribute",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribePrefixLists",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVpcEndpointServices",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "elasticloadbalancing:DescribeCapacityReservation",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "ecs:DescribeTaskDefinition",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "kms:ListAliases",
    "logs:DescribeLogGroups",
    "sns:GetSubscriptionAttributes",
)


def read_statements(scope: Scope) -> list[Statement]:
    """What refreshing the stack reads; every Get here returns settings, never items."""
    statements = [
        allow("DescribeAnywhereInRegion", READ_ANYWHERE, "*", **scope.in_region),
        allow(
            "ReadNamedResources",
            [
                "ecs:DescribeClusters",
                "ecs:DescribeServices",
                "ecs:ListTagsForResource",
                "ecs:ListServiceDeployments",
                "ecs:DescribeServiceDeployments",
                "ecs:DescribeTasks",
                "ecr:DescribeRepositories",
                "ecr:DescribeImages",
                "ecr:GetLifecyclePolicy",
                "ecr:GetRepositoryPolicy",
                "ecr:ListTagsForResource",
                "dynamodb:DescribeTable",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:ListTagsOfResource",
                "logs:ListTagsForResource",
                "logs:ListTagsLogGroup",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:GetDashboard",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
                "wafv2:ListTagsForResource",
            ],
            [
                scope.named("ecs", "cluster/{prefix}"),
                scope.named("ecs", "service/{prefix}/*"),
                scope.named("ecs", "task/{prefix}/*"),
                scope.named("ecs", "service-deployment/{prefix}/*"),
                scope.named("ecr", "repository/{prefix}"),
                scope.named("dynamodb", "table/{prefix}"),
                *log_groups(scope),
                scope.named("cloudwatch", "alarm:{prefix}-*"),
                scope.named("cloudwatch", "dashboard/{prefix}", regional=False),
                scope.named("sns", "{prefix}-*"),
                scope.named("wafv2", "regional/webacl/{prefix}-*/*"),
                scope.named("elasticloadbalancing", "loadbalancer/app/{short}-*/*"),
            ],
        ),
        # Fargate tasks run on no container instance, the resource ListTasks names: "*", held
        # to the stack's cluster (parliament's RESOURCE_STAR here is expected).
        allow(
            "ReadOwnTasks",
            ["ecs:ListTasks"],
            "*",
            ArnEquals={"ecs:cluster": scope.named("ecs", "cluster/{prefix}")},
        ),
        allow(
            "ReadOwnVpc", ["ec2:DescribeVpcAttribute"], scope.arn("ec2", "vpc/*"), **scope.tagged()
        ),
        allow(
            "ReadTaggedKeysAndCertificates",
            [
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:ListResourceTags",
                "acm:DescribeCertificate",
                "acm:ListTagsForCertificate",
            ],
            [scope.arn("kms", "key/*"), scope.arn("acm", "certificate/*")],
            **scope.tagged(),
        ),
        # IAM is global: no region to hold it to.
        allow(
            "ReadOwnRoles",
            [
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
                "iam:ListRoleTags",
            ],
            scope.named("iam", "role/{prefix}-*", regional=False),
        ),
    ]
    dns = scope.environment.dns
    if dns:
        statements.append(
            allow(
                "ReadOwnZone",
                ["route53:GetHostedZone", "route53:ListResourceRecordSets"],
                zone_arn(dns),
            )
        )
        # Route 53 names a change by a random id: "*" within the change type.
        statements.append(allow("ReadChanges", ["route53:GetChange"], "arn:aws:route53:::change/*"))
    return statements


# --- deploying one stack ------------------------------------------------------------------------


def network_statements(scope: Scope) -> list[Statement]:
    """EC2: VPC, subnets, gateways, routes, endpoint, security groups and their rules.

    EC2 names everything by a random id, so tags decide: a new resource must carry the stack's
    tags (the provider sends them in the create call), and every action on an existing resource
    needs them on it. The creates are split so that no create action's statement also lists a
    type it only refers to (CreateSubnet names an existing VPC): there the existing one's tags
    count, and a stack cannot put its subnet into another stack's VPC. (parliament reports each
    create statement as a RESOURCE_MISMATCH because the existing types are not in it; they are
    in ChangeOwnNetwork, on purpose.)
    """
    ec2 = [scope.arn("ec2", f"{kind}/*") for kind in NETWORK_TYPES]
    creates = {
        "CreateInVpc": (
            ["ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup",
             "ec2:CreateInternetGateway", "ec2:AllocateAddress"],
            ["subnet", "route-table", "security-group", "internet-gateway", "elastic-ip"],
        ),
        "CreateVpcAndNat": (["ec2:CreateVpc", "ec2:CreateNatGateway"], ["vpc", "natgateway"]),
        "CreateEndpointAndRules": (
            ["ec2:CreateVpcEndpoint", "ec2:AuthorizeSecurityGroupIngress",
             "ec2:AuthorizeSecurityGroupEgress"],
            ["vpc-endpoint", "security-group-rule"],
        ),
    }  # fmt: skip
    create_actions = sorted(action for actions, _ in creates.values() for action in actions)
    return [
        *(
            allow(
                sid,
                actions,
                [scope.arn("ec2", f"{kind}/*") for kind in kinds],
                **scope.tagged("aws:RequestTag"),
            )
            for sid, (actions, kinds) in creates.items()
        ),
        allow(
            "TagOnCreate",
            ["ec2:CreateTags"],
            ec2,
            StringEquals={"ec2:CreateAction": create_actions},
        ),
        allow(
            "ChangeOwnNetwork",
            [
                *create_actions,
                "ec2:AssociateRouteTable",
                "ec2:AttachInternetGateway",
                "ec2:CreateRoute",
                "ec2:CreateTags",
                "ec2:DeleteInternetGateway",
                "ec2:DeleteNatGateway",
                "ec2:DeleteRoute",
                "ec2:DeleteRouteTable",
                "ec2:DeleteSecurityGroup",
                "ec2:DeleteSubnet",
                "ec2:DeleteTags",
                "ec2:DeleteVpc",
                "ec2:DeleteVpcEndpoints",
                "ec2:DetachInternetGateway",
                "ec2:DisassociateAddress",
                "ec2:DisassociateRouteTable",
                "ec2:ModifySecurityGroupRules",
                "ec2:ModifySubnetAttribute",
                "ec2:ModifyVpcAttribute",
                "ec2:ModifyVpcEndpoint",
                "ec2:ReleaseAddress",
                "ec2:ReplaceRoute",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
                "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            ],
            ec2,
            **scope.tagged(),
        ),
    ]


def edge_statements(scope: Scope) -> list[Statement]:
    """Load balancer, listeners, rules, target groups and WAF, by name; certificate and DNS
    records only for a stack that serves its own domain."""
    balancers = scope.named("elasticloadbalancing", "loadbalancer/app/{short}-*/*")
    statements = [
        # Application load balancers only: parliament reports a RESOURCE_MISMATCH for the
        # network load balancer ARNs (`net/`) these actions also accept, which stay out.
        allow(
            "OwnLoadBalancer",
            [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:SetRulePriorities",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
            ],
            [
                balancers,
                scope.named("elasticloadbalancing", "listener/app/{short}-*/*/*"),
                scope.named("elasticloadbalancing", "listener-rule/app/{short}-*/*/*/*"),
                scope.named("elasticloadbalancing", "targetgroup/{short}-*/*"),
            ],
        ),
        allow(
            "OwnFirewall",
            [
                "wafv2:AssociateWebACL",
                "wafv2:CreateWebACL",
                "wafv2:DeleteWebACL",
                "wafv2:DisassociateWebACL",
                "wafv2:TagResource",
                "wafv2:UntagResource",
                "wafv2:UpdateWebACL",
            ],
            [
                scope.named("wafv2", "regional/webacl/{prefix}-*/*"),
                # AWS's managed rule groups, which the web ACL refers to.
                f"arn:aws:wafv2:{scope.region}:*:regional/managedruleset/*/*",
                balancers,
            ],
        ),
        # Attaching a web ACL to a load balancer: this ELB action accepts only "*"; the
        # wafv2 association above names the balancer.
        allow("AttachFirewall", ["elasticloadbalancing:SetWebAcl"], "*", **scope.in_region),
    ]
    dns = scope.environment.dns
    if dns:
        statements += [
            # A certificate's ARN is a random id: the request is held to the stack's domain
            # and tags (ACM accepts only "*" for it), later calls to certificates that carry
            # the stack's tags.
            allow(
                "RequestOwnCertificate",
                ["acm:RequestCertificate"],
                "*",
                StringEquals={
                    **scope.tagged("aws:RequestTag")["StringEquals"],
                    "aws:RequestedRegion": scope.region,
                },
                **{"ForAllValues:StringEquals": {"acm:DomainNames": [dns.domain]}},
            ),
            allow(
                "TagOwnCertificate",
                ["acm:AddTagsToCertificate"],
                scope.arn("acm", "certificate/*"),
                **scope.tagged("aws:RequestTag"),
            ),
            allow(
                "OwnCertificate",
                ["acm:DeleteCertificate", "acm:RemoveTagsFromCertificate"],
                scope.arn("acm", "certificate/*"),
                **scope.tagged(),
            ),
            # The alias record and the certificate's validation record, nothing else in the zone.
            allow(
                "OwnRecords",
                ["route53:ChangeResourceRecordSets"],
                [zone_arn(dns)],
                **{
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                            dns.domain,
                            f"_*.{dns.domain}",
                        ]
                    },
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsRecordTypes": ["A", "CNAME"]
                    },
                },
            ),
        ]
    return statements


def compute_statements(scope: Scope) -> list[Statement]:
    """ECS cluster, service and task definitions; the registry and the image push; scaling."""
    clusters = scope.named("ecs", "cluster/{prefix}")
    services = scope.named("ecs", "service/{prefix}/*")
    task_definitions = scope.named("ecs", "task-definition/{prefix}-*:*")
    return [
        allow(
            "OwnService",
            [
                "ecs:CreateCluster",
                "ecs:CreateService",
                "ecs:DeleteCluster",
                "ecs:DeleteService",
                "ecs:RegisterTaskDefinition",
                "ecs:TagResource",
                "ecs:UntagResource",
                "ecs:UpdateCluster",
                "ecs:UpdateClusterSettings",
                "ecs:UpdateService",
            ],
            [clusters, services, task_definitions],
        ),
        # ECS accepts only "*" for deregistering a task definition revision.
        allow("RetireTaskDefinitions", ["ecs:DeregisterTaskDefinition"], "*", **scope.in_region),
        allow(
            "OwnRegistryAndImagePush",
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:CreateRepository",
                "ecr:DeleteLifecyclePolicy",
                "ecr:DeleteRepository",
                "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                "ecr:PutLifecyclePolicy",
                "ecr:TagResource",
                "ecr:UntagResource",
                "ecr:UploadLayerPart",
            ],
            scope.named("ecr", "repository/{prefix}"),
        ),
        registry_login(scope),
        # The registry's KMS encryption (AWS managed key aws/ecr), used through ECR only.
        allow(
            "RegistryEncryption",
            ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
            scope.arn("kms", "key/*"),
            StringEquals={"kms:ViaService": f"ecr.{scope.region}.amazonaws.com"},
        ),
        # Application Auto Scaling names targets by a random id and has no tag conditions on
        # these calls: held to ECS targets in the region.
        allow(
            "ScaleEcsServices",
            [
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:RegisterScalableTarget",
            ],
            scope.arn("application-autoscaling", "scalable-target/*"),
            StringEquals={"application-autoscaling:service-namespace": "ecs"},
        ),
        allow(
            "RemoveScaling",
            [
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:TagResource",
                "application-autoscaling:UntagResource",
            ],
            scope.arn("application-autoscaling", "scalable-target/*"),
        ),
        # Target tracking creates its own alarms, named for the service.
        allow(
            "ScalingAlarms",
            ["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"],
            scope.named("cloudwatch", "alarm:TargetTracking-service/{prefix}/*"),
        ),
    ]


def role_statements(scope: Scope) -> list[Statement]:
    """The stack's IAM roles, which the deploy role may pass to ECS only: each write that IAM can
    hold to a permissions boundary must leave the stack's boundary on the role, so no policy
    given to a role can reach beyond what the boundary allows. The other writes change no role's
    permissions; who may assume a role (its trust) IAM cannot hold to a boundary, but whoever it
    lets in gets no more than the boundary either."""
    roles = scope.named("iam", "role/{prefix}-*", regional=False)
    within_boundary = {"iam:PermissionsBoundary": scope.boundary_arn}
    return [
        allow(
            "OwnRolesWithinBoundary",
            BOUNDED_ROLE_WRITES,
            roles,
            ArnEquals=within_boundary,
        ),
        allow(
            "AttachOnlyTheEcsPolicyWithinBoundary",
            ["iam:AttachRolePolicy"],
            roles,
            ArnEquals={**within_boundary, "iam:PolicyARN": list(ATTACHABLE_POLICIES)},
        ),
        allow(
            "OwnRoles",
            [
                "iam:DeleteRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ],
            roles,
        ),
        allow(
            "PassOwnRolesToEcs",
            ["iam:PassRole"],
            roles,
            StringEquals={"iam:PassedToService": list(PASSED_TO)},
        ),
        allow(
            "ServiceLinkedRoles",
            ["iam:CreateServiceLinkedRole"],
            [
                scope.arn("iam", f"role/aws-service-role/{service}/{role}", regional=False)
                for service, role in SERVICE_LINKED_ROLES.items()
            ],
            StringEquals={"iam:AWSServiceName": list(SERVICE_LINKED_ROLES)},
        ),
        # Nothing above allows these; the deny keeps it so whatever is added later.
        {
            "Sid": "KeepEveryBoundary",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:DeleteRolePermissionsBoundary",
                "iam:SetDefaultPolicyVersion",
            ],
            "Resource": [
                scope.arn("iam", f"policy/{WORKLOAD_PROJECT}-*-boundary", regional=False),
                scope.arn("iam", "role/*", regional=False),
            ],
        },
    ]


def data_statements(scope: Scope) -> list[Statement]:
    """The table and its key, the log group, alarms and dashboard, the alarm topic."""
    keys = scope.arn("kms", "key/*")
    return [
        allow(
            "OwnTable",
            [
                "dynamodb:CreateTable",
                "dynamodb:DeleteTable",
                "dynamodb:TagResource",
                "dynamodb:UntagResource",
                "dynamodb:UpdateContinuousBackups",
                "dynamodb:UpdateTable",
                "dynamodb:UpdateTimeToLive",
            ],
            scope.named("dynamodb", "table/{prefix}"),
        ),
        # KMS names a key by a random id and creates it on "*": the new key must carry the
        # stack's tags, and every later call needs them on the key.
        allow(
            "CreateOwnKey",
            ["kms:CreateKey"],
            "*",
            StringEquals={
                **scope.tagged("aws:RequestTag")["StringEquals"],
                "aws:RequestedRegion": scope.region,
            },
        ),
        # Tags given on creation (KMS cannot tell them from later ones): only the stack's own,
        # and never on another stack's key (see retagging_denied).
        allow("TagOwnKey", ["kms:TagResource"], keys, **scope.tagged("aws:RequestTag")),
        # An alias names both the alias and its key; the key's half is here, held to the
        # stack's tags, the alias's below (parliament's RESOURCE_MISMATCH on both is expected).
        allow(
            "OwnKey",
            [
                "kms:CreateAlias",
                "kms:DeleteAlias",
                "kms:EnableKeyRotation",
                "kms:ScheduleKeyDeletion",
                "kms:UntagResource",
                "kms:UpdateAlias",
                "kms:UpdateKeyDescription",
            ],
            keys,
            **scope.tagged(),
        ),
        allow(
            "OwnAlias",
            ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            scope.named("kms", "alias/{prefix}"),
        ),
        # Creating a table encrypted with the key: DynamoDB uses it on the caller's behalf.
        allow(
            "TableEncryption",
            [
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ],
            keys,
            **scope.own_key_through_dynamodb,
        ),
        allow(
            "OwnLogsAlarmsDashboardTopic",
            [
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:PutRetentionPolicy",
                "logs:TagResource",
                "logs:TagLogGroup",
                "logs:UntagResource",
                "logs:UntagLogGroup",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:DeleteDashboards",
                "cloudwatch:PutDashboard",
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:UntagResource",
            ],
            [
                *log_groups(scope),
                scope.named("cloudwatch", "alarm:{prefix}-*"),
                scope.named("cloudwatch", "dashboard/{prefix}", regional=False),
                scope.named("sns", "{prefix}-*"),
            ],
        ),
        # SNS accepts only "*" for calls on a subscription (the email addresses of alarmEmails).
        allow(
            "OwnSubscriptions",
            ["sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
            "*",
            **scope.in_region,
        ),
    ]


# --- the self-managed state backend -------------------------------------------------------------


def state_statements(
    stacks: Sequence[str], bucket: str, key_arn: pulumi.Output[str], *, write: bool
) -> list[Statement]:
    """These stacks' files in the state bucket (the Pulumi CLI's layout under .pulumi/)
    and the key that encrypts them and the stacks' secrets: no other project's or stack's files.

    A preview reads its stacks' state and takes their lock; a deployment also writes the state,
    its history, backups and journal.
    """
    project = WORKLOAD_PROJECT
    bucket_arn = f"arn:aws:s3:::{bucket}"
    state = [f"{bucket_arn}/.pulumi/stacks/{project}/{stack}.json*" for stack in stacks]
    locks = [f"{bucket_arn}/.pulumi/locks/organization/{project}/{stack}/*" for stack in stacks]
    records = [
        f"{bucket_arn}/.pulumi/{kind}/{project}/{stack}/*"
        for kind in ("history", "backups", "journal")
        for stack in stacks
    ]
    object_actions = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    return [
        # Listing shows stack names only; the CLI lists to find a stack, its locks and history.
        allow("ListState", ["s3:ListBucket"], bucket_arn),
        allow("ReadBackendVersion", ["s3:GetObject"], f"{bucket_arn}/.pulumi/meta.yaml"),
        allow("TakeOwnLocks", object_actions, locks),
        (
            allow("WriteOwnState", object_actions, [*state, *records])
            if write
            else allow("ReadOwnState", ["s3:GetObject"], state)
        ),
        allow(
            "StateKey",
            ["kms:Decrypt", "kms:GenerateDataKey", *(["kms:Encrypt"] if write else [])],
            key_arn,
        ),
    ]


def retagging_denied(scope: Scope) -> Statement:
    """KMS keys and ACM certificates are ours by their tags, and tags given on creation cannot
    be told apart from later ones: a resource already tagged for another stack (or for the
    bootstrap, like the state key) can never be retagged, whatever else allows it."""
    return {
        "Sid": "NeverRetagAnotherStacks",
        "Effect": "Deny",
        "Action": [
            "acm:AddTagsToCertificate",
            "acm:RemoveTagsFromCertificate",
            "kms:TagResource",
            "kms:UntagResource",
        ],
        "Resource": [scope.arn("acm", "certificate/*"), scope.arn("kms", "key/*")],
        "Condition": {
            "Null": {"aws:ResourceTag/Environment": "false"},
            "StringNotEquals": {"aws:ResourceTag/Environment": scope.environment.stack},
        },
    }


def deploy_documents(settings: AccountSettings, environment: Environment) -> Mapping[str, Document]:
    """One stack's deploy policies by name suffix; each within IAM's managed-policy size."""
    scope = Scope(settings.account_id, settings.region, environment)
    return {
        "read": document(*read_statements(scope)),
        "network": document(*network_statements(scope)),
        "edge": document(*edge_statements(scope), retagging_denied(scope)),
        "compute": document(*compute_statements(scope)),
        "roles": document(*role_statements(scope)),
        "data": document(*data_statements(scope)),
    }


def preview_documents(settings: AccountSettings) -> Mapping[str, Document]:
    """One read policy per stack: together they would outgrow one managed policy."""
    return {
        f"read-{environment.stack}": document(
            *read_statements(Scope(settings.account_id, settings.region, environment))
        )
        for environment in settings.environments
    }
