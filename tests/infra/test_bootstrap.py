"""The bootstrap program (platform/bootstrap): deploy identities of each AWS account, built from
its real stack files under mocks, with the settings only a user knows filled in here."""

import json
import re
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from typing import Any

import parliament
import pytest
from account import ConfigError
from aws_managed_policies import MANAGED_POLICIES
from fargate_service import LOAD_BALANCER_ROLE_POLICY
from iam_evaluation import Request, authorized, listed
from stack_builds import ACCOUNT, BOOTSTRAP, Registration, StackBuild, build_stack, project_config

PROJECT = "hello-birthday-bootstrap"
REPOSITORY = "acme/hello-birthday"
ISSUER = "token.actions.githubusercontent.com"
OIDC_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
MANAGED_POLICY_LIMIT = 6144  # characters, whitespace not counted
ATTACHED_POLICIES_LIMIT = 10  # managed policies per role, AWS's default quota
BOOTSTRAP_STACKS = sorted(
    path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    for path in BOOTSTRAP.glob("Pulumi.*.yaml")
)
POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
Bootstrapped = Callable[..., StackBuild]


def declared_environments(stack: str) -> dict[str, dict[str, Any]]:
    environments = json.loads(project_config(BOOTSTRAP, stack)[f"{PROJECT}:environments"])
    assert isinstance(environments, dict)
    return environments


def domain(environment: str) -> dict[str, str]:
    return {"name": f"{environment}.hello.example.org", "hostedZoneId": f"Z0{environment.upper()}"}


def user_settings(stack: str) -> dict[str, str]:
    """What the account's owner sets with `pulumi config set` before the first `pulumi up`."""
    domains = {
        name: domain(name) for name, entry in declared_environments(stack).items() if entry["https"]
    }
    return {
        f"{PROJECT}:accountId": ACCOUNT,
        f"{PROJECT}:githubRepository": REPOSITORY,
        f"{PROJECT}:domains": json.dumps(domains),
    }


def build(stack: str, config: dict[str, str]) -> StackBuild:
    return build_stack(stack, config, program=BOOTSTRAP, project=PROJECT)


@pytest.fixture(scope="session")
def bootstrapped() -> Bootstrapped:
    """Builds each bootstrap stack, with or without the state bucket, at most once."""
    cache: dict[tuple[str, bool], StackBuild] = {}

    def get(stack: str, state_bucket: bool = False) -> StackBuild:
        if (stack, state_bucket) not in cache:
            config = project_config(BOOTSTRAP, stack) | user_settings(stack)
            config[f"{PROJECT}:stateBucket"] = json.dumps(state_bucket)
            cache[(stack, state_bucket)] = build(stack, config)
        return cache[(stack, state_bucket)]

    return get


def policies_of(build: StackBuild, role_name: str) -> dict[str, dict[str, Any]]:
    """The documents of the managed policies attached to a role, by policy name."""
    role = next(r for r in build.of_type(ROLE) if r.inputs["name"] == role_name)
    attached = {
        a.inputs["policyArn"]
        for a in build.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    }
    return {
        policy.inputs["name"]: json.loads(policy.inputs["policy"])
        for policy in build.of_type(POLICY)
        if policy.arn in attached
    }


def statements(documents: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for document in documents.values():
        yield from document["Statement"]


def allows(documents: dict[str, dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement names the action and the resource (conditions aside) and no
    Deny statement without conditions does."""
    found = False
    for statement in statements(documents):
        named = any(fnmatchcase(action, a) for a in listed(statement["Action"])) and any(
            fnmatchcase(resource, r) for r in listed(statement["Resource"])
        )
        if named and statement["Effect"] == "Deny" and "Condition" not in statement:
            return False
        found |= named and statement["Effect"] == "Allow"
    return found


def deploy_role(stack: str) -> str:
    return f"hello-birthday-deploy-{stack}"


# --- required settings ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_refuses_to_run_until_every_setting_only_the_user_knows_is_set(stack: str) -> None:
    with pytest.raises(ConfigError, match="which only you can know") as refused:
        build(stack, project_config(BOOTSTRAP, stack))
    message = str(refused.value)
    needed = {"accountId": "", "githubRepository": ""}
    for name, entry in declared_environments(stack).items():
        if entry["https"]:
            needed |= {f"domains.{name}.name": "--path ", f"domains.{name}.hostedZoneId": "--path "}
    named = re.findall(r"^  (\S+): ", message, flags=re.MULTILINE)
    assert sorted(named) == sorted(needed)
    for key, path in needed.items():
        command = f"pulumi config set {path}{key} <"
        assert command in message
        assert re.search(
            rf"{re.escape(command)}[^>]+> --stack {stack} --cwd platform/bootstrap$",
            message,
            flags=re.MULTILINE,
        ), key


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("accountId", "12345678901"),
        ("accountId", "1234567890123"),
        ("githubRepository", "acme"),
        ("githubRepository", "acme/*"),
        ("githubRepository", "acme/hello-birthday:environment:prod"),
    ],
)
def test_malformed_settings_are_refused_by_name(key: str, value: str) -> None:
    config = project_config(BOOTSTRAP, "prod") | user_settings("prod")
    config[f"{PROJECT}:{key}"] = value
    with pytest.raises(ConfigError, match=rf"(?m)^  {key}: "):
        build("prod", config)


@pytest.mark.parametrize("name", ["dev-x", "Dev", "bootstrap"])
def test_a_stack_name_that_could_cover_another_stacks_resources_is_refused(name: str) -> None:
    config = project_config(BOOTSTRAP, "prod") | user_settings("prod")
    environments = {name: {"githubEnvironment": "x", "https": False}}
    config[f"{PROJECT}:environments"] = json.dumps(environments)
    with pytest.raises(ConfigError, match=rf"environments\.{name}: a stack name"):
        build("prod", config)


# --- providers and trust --------------------------------------------------------------------


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_every_provider_refuses_any_other_account(bootstrapped: Bootstrapped, stack: str) -> None:
    build = bootstrapped(stack, state_bucket=True)
    providers = [r for r in build.resources if r.type.startswith("pulumi:providers:")]
    assert providers
    for provider in providers:
        assert json.loads(provider.inputs["allowedAccountIds"]) == [ACCOUNT], provider.urn
    (provider,) = providers
    for resource in build.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.urn


def trust_problems(document: dict[str, Any], subject: str) -> list[str]:
    """Everything that makes a trust policy broader than: GitHub's issuer, audience STS,
    exactly this subject."""
    problems = []
    if len(document["Statement"]) != 1:
        problems.append("more than one statement")
    for statement in document["Statement"]:
        expected = {
            "Sid": "GitHubActions",
            "Effect": "Allow",
            "Principal": {"Federated": OIDC_PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": subject}
            },
        }
        if statement != expected:
            problems.append(f"{statement} is not {expected}")
        for value in json.dumps(statement.get("Condition", {})).split('"'):
            if value.startswith("repo:") and re.search(r"[*?]", value):
                problems.append(f"wildcard in {value}")
    return problems


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_each_deploy_role_trusts_only_its_github_environment(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack)
    for name, entry in declared_environments(stack).items():
        (role,) = [r for r in build.of_type(ROLE) if r.inputs["name"] == deploy_role(name)]
        subject = f"repo:{REPOSITORY}:environment:{entry['githubEnvironment']}"
        assert trust_problems(json.loads(role.inputs["assumeRolePolicy"]), subject) == []
        # A prod deploy waits through its bake time and gates: longer than AWS's default hour.
        assert role.inputs["maxSessionDuration"] == 2 * 3600


def test_prod_is_deployed_from_githubs_production_environment() -> None:
    assert declared_environments("prod") == {
        "prod": {"githubEnvironment": "production", "https": True}
    }


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_the_preview_role_trusts_only_pull_requests(bootstrapped: Bootstrapped, stack: str) -> None:
    build = bootstrapped(stack)
    (role,) = [r for r in build.of_type(ROLE) if r.inputs["name"] == "hello-birthday-preview"]
    subject = f"repo:{REPOSITORY}:pull_request"
    assert trust_problems(json.loads(role.inputs["assumeRolePolicy"]), subject) == []
    assert role.inputs["maxSessionDuration"] == 3600


@pytest.mark.parametrize(
    "planted",
    [
        {
            "StringLike": {
                f"{ISSUER}:aud": "sts.amazonaws.com",
                f"{ISSUER}:sub": f"repo:{REPOSITORY}:*",
            }
        },
        {
            "StringEquals": {
                f"{ISSUER}:aud": "sts.amazonaws.com",
                f"{ISSUER}:sub": f"repo:{REPOSITORY}:*",
            }
        },
        {"StringEquals": {f"{ISSUER}:sub": f"repo:{REPOSITORY}:pull_request"}},
        {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}},
    ],
    ids=["StringLike-wildcard", "wildcard", "no-audience", "no-subject"],
)
def test_the_trust_check_catches_a_broader_condition(planted: dict[str, Any]) -> None:
    statement = {
        "Sid": "GitHubActions",
        "Effect": "Allow",
        "Principal": {"Federated": OIDC_PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": planted,
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    assert trust_problems(document, f"repo:{REPOSITORY}:pull_request") != []


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_githubs_oidc_provider_is_for_sts_only(bootstrapped: Bootstrapped, stack: str) -> None:
    provider = bootstrapped(stack).one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{ISSUER}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    for role in bootstrapped(stack).of_type(ROLE):
        assert provider.urn in role.dependencies, role.name


def test_an_account_that_has_githubs_provider_keeps_it(bootstrapped: Bootstrapped) -> None:
    config = project_config(BOOTSTRAP, "prod") | user_settings("prod")
    config[f"{PROJECT}:existingOidcProvider"] = "true"
    kept = build("prod", config)
    assert kept.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    created = {r.name: r.inputs["assumeRolePolicy"] for r in bootstrapped("prod").of_type(ROLE)}
    assert {r.name: r.inputs["assumeRolePolicy"] for r in kept.of_type(ROLE)} == created


# --- the policies -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_every_policy_is_json_within_iams_limits(bootstrapped: Bootstrapped, stack: str) -> None:
    build = bootstrapped(stack, state_bucket=True)
    assert build.of_type(POLICY)
    for policy in build.of_type(POLICY):
        document = json.loads(policy.inputs["policy"])
        assert document["Version"] == "2012-10-17"
        assert len(re.sub(r"\s", "", policy.inputs["policy"])) <= MANAGED_POLICY_LIMIT, policy.name
        sids = [statement["Sid"] for statement in document["Statement"]]
        assert len(sids) == len(set(sids)), policy.name
    for role in build.of_type(ROLE):
        assert 0 < len(policies_of(build, role.inputs["name"])) <= ATTACHED_POLICIES_LIMIT


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_no_statement_allows_every_action_of_a_service(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    for policy in bootstrapped(stack, state_bucket=True).of_type(POLICY):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            assert "NotAction" not in statement
            assert "NotResource" not in statement
            assert not any("*" in action for action in listed(statement["Action"])), policy.name


def trusted_services(built: Callable[[str], StackBuild]) -> list[str]:
    """The services the main program's roles trust, in any of its cloud stacks: the only ones a
    deploy role passes a role to (a stack's deployment strategy decides which it uses)."""
    return sorted(
        {
            service
            for main_stack in MAIN_STACKS
            for role in built(main_stack).of_type(ROLE)
            for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]
            for service in listed(statement["Principal"]["Service"])
        }
    )


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_deploy_roles_pass_only_their_stacks_roles_and_only_to_ecs(
    built: Callable[[str], StackBuild], bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack)
    passed_to = trusted_services(built)
    assert passed_to
    assert set(passed_to) <= {"ecs-tasks.amazonaws.com", "ecs.amazonaws.com"}  # ECS only
    for name in declared_environments(stack):
        passing = [
            s
            for s in statements(policies_of(build, deploy_role(name)))
            if any(fnmatchcase("iam:PassRole", a) for a in listed(s["Action"]))
        ]
        assert passing
        for statement in passing:
            assert statement["Effect"] == "Allow"
            assert listed(statement["Resource"]) == [
                f"arn:aws:iam::{ACCOUNT}:role/hello-birthday-{name}-*"
            ]
            assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": passed_to}}


IAM_CHANGES = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicy",
    "iam:DeleteRole",
    "iam:PassRole",
    "iam:UpdateOpenIDConnectProviderThumbprint",
)


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_no_role_can_change_the_identities_themselves(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack, state_bucket=True)
    own = [f"arn:aws:iam::{ACCOUNT}:role/{r.inputs['name']}" for r in build.of_type(ROLE)]
    own += [f"arn:aws:iam::{ACCOUNT}:policy/{p.inputs['name']}" for p in build.of_type(POLICY)]
    own.append(OIDC_PROVIDER_ARN)
    for role in build.of_type(ROLE):
        documents = policies_of(build, role.inputs["name"])
        for arn in own:
            for action in IAM_CHANGES:
                assert not allows(documents, action, arn), (role.inputs["name"], action, arn)


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_no_deploy_role_can_retag_a_key_or_certificate_that_is_not_its_stacks(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    """KMS keys and certificates are a stack's by their tags, and tag-on-create rights cannot
    tell a new resource from an existing one: a deny must keep the others' tags as they are."""
    build = bootstrapped(stack, state_bucket=True)
    # The bootstrap's own resources (the state key) carry an Environment no stack has.
    provider = build.one("pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags["Environment"] not in declared_environments(stack)
    for name in declared_environments(stack):
        (deny,) = [
            s
            for s in statements(policies_of(build, deploy_role(name)))
            if s["Sid"] == "NeverRetagAnotherStacks"
        ]
        tagging = {"kms:TagResource", "kms:UntagResource", "acm:AddTagsToCertificate",
                   "acm:RemoveTagsFromCertificate"}  # fmt: skip
        assert set(deny["Action"]) == tagging
        assert sorted(deny["Resource"]) == [
            f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/*",
            f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
        ]
        assert deny["Condition"] == {
            "Null": {"aws:ResourceTag/Environment": "false"},
            "StringNotEquals": {"aws:ResourceTag/Environment": name},
        }


# Each finding parliament reports on a statement that is right as it is, with the reason (the
# same reason is the comment next to the statement in platform/bootstrap/permissions.py).
SPLIT_CREATE = "the create is split from the existing resources it names, which need their tags"
ACCEPTED_FINDINGS = {
    ("CreateInVpc", "RESOURCE_MISMATCH"): SPLIT_CREATE,
    ("CreateVpcAndNat", "RESOURCE_MISMATCH"): SPLIT_CREATE,
    ("CreateEndpointAndRules", "RESOURCE_MISMATCH"): SPLIT_CREATE,
    ("OwnLoadBalancer", "RESOURCE_MISMATCH"): "parliament asks for network load balancer ARNs too",
    ("ShiftTraffic", "RESOURCE_MISMATCH"): "parliament asks for network load balancer ARNs too",
    ("OwnKey", "RESOURCE_MISMATCH"): "an alias names an alias and a key: one half per statement",
    ("OwnAlias", "RESOURCE_MISMATCH"): "an alias names an alias and a key: one half per statement",
    ("ReadOwnTasks", "RESOURCE_STAR"): "Fargate tasks have no container instance to name",
}
# parliament's community auditors stay off here on purpose: they flag every permissions
# management action (PERMISSIONS_MANAGEMENT_ACTIONS: roles, passing them, key and repository
# policies) and every registry login (CREDENTIALS_EXPOSURE), which are what a deploy role is for.
# The tests of this file hold those statements to the stack's own roles, boundary and keys.
# Trust policies have no Resource (parliament reads them as identity policies), and parliament
# knows SAML providers but not OIDC ones.
ACCEPTED_TRUST_FINDINGS = {"MALFORMED", "UNKNOWN_FEDERATION_SOURCE"}


def parliament_findings(document: dict[str, Any]) -> set[str]:
    analysis = parliament.analyze_policy_string(json.dumps(document))
    return {finding.issue for finding in analysis.findings}


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_parliament_finds_nothing_but_the_justified_findings(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack, state_bucket=True)
    unexpected = []
    for policy in build.of_type(POLICY):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            document = {"Version": "2012-10-17", "Statement": [statement]}
            for issue in parliament_findings(document):
                if (statement["Sid"], issue) not in ACCEPTED_FINDINGS:
                    unexpected.append(f"{policy.name} {statement['Sid']}: {issue}")
    for role in build.of_type(ROLE):
        for issue in parliament_findings(json.loads(role.inputs["assumeRolePolicy"])):
            if issue not in ACCEPTED_TRUST_FINDINGS:
                unexpected.append(f"{role.name} trust: {issue}")
    assert unexpected == []


def access_levels(action: str) -> set[str]:
    """Read, List, Write, Tagging or Permissions management: AWS's class of the action, from
    the IAM reference parliament ships (a prefix with several API versions may list it twice)."""
    prefix, name = action.split(":")
    levels = {
        str(privilege["access_level"])
        for service in parliament.iam_definition
        if service["prefix"] == prefix
        for privilege in service["privileges"]
        if privilege["privilege"] == name
    }
    assert levels, f"{action} is not in AWS's IAM reference"
    return levels


STATE_BUCKET = f"arn:aws:s3:::hello-birthday-state-{ACCOUNT}"
# Reading these would read data, not settings.
DATA_READS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
              "s3:GetObject", "secretsmanager:GetSecretValue", "ssm:GetParameter",
              "ssm:GetParameters", "kms:Decrypt", "logs:GetLogEvents", "logs:FilterLogEvents",
              "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")  # fmt: skip


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_the_preview_role_reads_settings_and_its_stacks_state_only(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack, state_bucket=True)
    documents = policies_of(build, "hello-birthday-preview")
    key = build.one("aws:kms/key:Key").arn  # the state key
    locks = [f"{STATE_BUCKET}/.pulumi/locks/organization/hello-birthday/{name}/*"
             for name in declared_environments(stack)]  # fmt: skip
    for statement in statements(documents):
        assert statement["Effect"] == "Allow"
        resources = listed(statement["Resource"])
        for action in listed(statement["Action"]):
            if not access_levels(action) <= {"Read", "List"}:
                # Taking a stack's lock; the key that encrypts the state and its lock files.
                assert action in ("s3:PutObject", "s3:DeleteObject", "kms:Decrypt",
                                  "kms:GenerateDataKey")  # fmt: skip
                assert set(resources) <= {*locks, key}, (action, resources)
            if action in DATA_READS:
                assert all(r == key or r.startswith(f"{STATE_BUCKET}/") for r in resources)
    for data in DATA_READS:
        for arn in ("*", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/hello-birthday-prod",
                    "arn:aws:s3:::any-bucket/any-object"):  # fmt: skip
            assert not allows(documents, data, arn), (data, arn)


# --- the state backend --------------------------------------------------------------------------


def test_without_the_flag_there_is_no_state_bucket(bootstrapped: Bootstrapped) -> None:
    build = bootstrapped("nonprod")
    assert not [r for r in build.resources if r.type.startswith(("aws:s3/", "aws:kms/"))]
    assert not [p for p in build.of_type(POLICY) if p.inputs["name"].endswith("-state")]
    assert "backend_url" not in build.outputs


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_the_state_bucket_is_versioned_encrypted_private_tls_only_and_kept(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack, state_bucket=True)
    bucket, key = build.one("aws:s3/bucket:Bucket"), build.one("aws:kms/key:Key")
    name = f"hello-birthday-state-{ACCOUNT}"
    assert bucket.inputs["bucket"] == name
    for kept in (bucket, key):
        assert kept.protect
        assert kept.retain_on_delete
    assert key.inputs["enableKeyRotation"] is True
    assert build.one("aws:kms/alias:Alias").inputs["name"] == "alias/hello-birthday-state"
    of_bucket = [r for r in build.resources if r.inputs.get("bucket") == f"{bucket.name}-id"]
    kinds = {r.type.split("/")[1].split(":")[0]: r.inputs for r in of_bucket}
    assert kinds["bucketVersioning"]["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = kinds["bucketServerSideEncryptionConfiguration"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.arn,
    }
    assert rule["bucketKeyEnabled"] is True
    block = kinds["bucketPublicAccessBlock"]
    for setting in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[setting] is True
    assert kinds["bucketOwnershipControls"]["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    (deny,) = json.loads(kinds["bucketPolicy"]["policy"])["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert build.outputs["backend_url"] == f"s3://{name}?region=eu-west-1&awssdk=v2"
    assert (
        build.outputs["secrets_provider"] == "awskms://alias/hello-birthday-state?region=eu-west-1"
    )


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_each_deploy_role_writes_only_its_own_stacks_state(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack, state_bucket=True)
    names = list(declared_environments(stack))
    for name in names:
        documents = policies_of(build, deploy_role(name))
        mine = f"{STATE_BUCKET}/.pulumi/stacks/hello-birthday/{name}.json"
        assert allows(documents, "s3:PutObject", mine)
        assert allows(
            documents, "s3:PutObject", f"{STATE_BUCKET}/.pulumi/history/hello-birthday/{name}/x"
        )
        others = [f"{STATE_BUCKET}/.pulumi/stacks/hello-birthday/{other}.json"
                  for other in ("dev", "staging", "prod") if other != name]  # fmt: skip
        others += [f"{STATE_BUCKET}/.pulumi/stacks/hello-birthday-bootstrap/{stack}.json",
                   f"{STATE_BUCKET}/.pulumi/stacks/hello-birthday/{name}2.json",
                   f"{STATE_BUCKET}/.pulumi/meta.yaml"]  # fmt: skip
        for other in others:
            assert not allows(documents, "s3:PutObject", other), other
        for other in others[:-1]:
            assert not allows(documents, "s3:GetObject", other), other


# --- against what the main program builds -------------------------------------------------------

AUTONAME = "-abcdefg"  # pulumi-aws appends 7 random characters to a name it chooses


def aws_name(resource: Registration, key: str = "name") -> str:
    return str(resource.inputs.get(key) or resource.name + AUTONAME)


ARN = f"arn:aws:{{service}}:{{region}}:{ACCOUNT}:{{resource}}"
# How the deploy role of a stack creates or changes each resource the main program registers,
# and the ARN IAM checks ({name}: its AWS name; {balancer}: the load balancer's): every named
# resource of a stack must be in reach of its own role and of no other.
NAMED: dict[str, tuple[str, str]] = {
    "aws:dynamodb/table:Table": ("dynamodb:CreateTable", "table/{name}"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", "log-group:{name}"),
    "aws:ecr/repository:Repository": ("ecr:PutImage", "repository/{name}"),
    "aws:ecs/cluster:Cluster": ("ecs:CreateCluster", "cluster/{name}"),
    "aws:ecs/service:Service": ("ecs:UpdateService", "service/{cluster}/{name}"),
    "aws:ecs/taskDefinition:TaskDefinition": (
        "ecs:RegisterTaskDefinition", "task-definition/{family}:1"
    ),
    "aws:iam/role:Role": ("iam:PassRole", "role/{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:PutMetricAlarm", "alarm:{name}"),
    "aws:sns/topic:Topic": ("sns:CreateTopic", "{name}"),
    "aws:lb/loadBalancer:LoadBalancer": (
        "elasticloadbalancing:CreateLoadBalancer", "loadbalancer/app/{name}/0123"
    ),
    "aws:lb/targetGroup:TargetGroup": (
        "elasticloadbalancing:CreateTargetGroup", "targetgroup/{name}/0123"
    ),
    "aws:lb/listener:Listener": (
        "elasticloadbalancing:ModifyListener", "listener/app/{balancer}/0123/4567"
    ),
    "aws:lb/listenerRule:ListenerRule": (
        "elasticloadbalancing:ModifyRule", "listener-rule/app/{balancer}/0123/4567/89ab"
    ),
    "aws:wafv2/webAcl:WebAcl": ("wafv2:CreateWebACL", "regional/webacl/{name}/0123"),
    "aws:kms/alias:Alias": ("kms:CreateAlias", "{name}"),
}  # fmt: skip
# EC2's, KMS keys' and ACM certificates' ARNs are random ids: their statements hold to the
# stack's tags (asserted below). The rest are parts of the resources above, changed through them.
TAGGED = {
    "aws:ec2/vpc:Vpc": "ec2:CreateVpc",
    "aws:ec2/subnet:Subnet": "ec2:CreateSubnet",
    "aws:ec2/internetGateway:InternetGateway": "ec2:CreateInternetGateway",
    "aws:ec2/routeTable:RouteTable": "ec2:CreateRouteTable",
    "aws:ec2/eip:Eip": "ec2:AllocateAddress",
    "aws:ec2/natGateway:NatGateway": "ec2:CreateNatGateway",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "ec2:CreateVpcEndpoint",
    "aws:ec2/securityGroup:SecurityGroup": "ec2:CreateSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "ec2:AuthorizeSecurityGroupIngress"
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "ec2:AuthorizeSecurityGroupEgress",
    "aws:kms/key:Key": "kms:CreateKey",
    "aws:acm/certificate:Certificate": "acm:RequestCertificate",
}
PARTS = {
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "ec2:AssociateRouteTable",
    "aws:iam/rolePolicy:RolePolicy": "iam:PutRolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "iam:AttachRolePolicy",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "ecr:PutLifecyclePolicy",
    "aws:acm/certificateValidation:CertificateValidation": "acm:DescribeCertificate",
    "aws:route53/record:Record": "route53:ChangeResourceRecordSets",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "wafv2:AssociateWebACL",
    "aws:appautoscaling/target:Target": "application-autoscaling:RegisterScalableTarget",
    "aws:appautoscaling/policy:Policy": "application-autoscaling:PutScalingPolicy",
    "aws:sns/topicSubscription:TopicSubscription": "sns:Subscribe",
    "aws:cloudwatch/dashboard:Dashboard": "cloudwatch:PutDashboard",
}
MAIN_STACKS = {"dev": "nonprod", "staging": "nonprod", "prod": "prod"}


def aws_arn(program: StackBuild, resource: Registration) -> str:
    """The ARN AWS gives a named resource of the main program (NAMED)."""
    action, path = NAMED[resource.type]
    service = action.split(":")[0]
    names = {
        "name": aws_name(resource),
        "cluster": program.outputs["cluster_name"],
        "balancer": aws_name(program.one("aws:lb/loadBalancer:LoadBalancer")),
        "family": resource.inputs.get("family"),
    }
    region = "" if service == "iam" else "eu-west-1"  # IAM is global
    return ARN.format(service=service, region=region, resource=path.format(**names))


@pytest.mark.parametrize("main_stack", sorted(MAIN_STACKS))
def test_the_deploy_role_reaches_every_resource_of_its_stack_and_no_other(
    built: Callable[[str], StackBuild], bootstrapped: Bootstrapped, main_stack: str
) -> None:
    program = built(main_stack)
    stack = MAIN_STACKS[main_stack]
    roles = {
        name: policies_of(bootstrapped(stack), deploy_role(name))
        for name in declared_environments(stack)
    }
    # A type the main program gained must be placed in one of the tables above (and reviewed).
    aws_types = {r.type for r in program.resources if r.type.startswith("aws:")}
    assert aws_types <= set(NAMED) | set(TAGGED) | set(PARTS)
    for resource in program.resources:
        if resource.type in NAMED:
            action, arn = NAMED[resource.type][0], aws_arn(program, resource)
            for name, documents in roles.items():
                assert allows(documents, action, arn) is (name == main_stack), (name, action, arn)
    own = roles[main_stack]
    for resource_type, action in {**TAGGED, **PARTS}.items():
        if resource_type in aws_types:
            assert any(
                fnmatchcase(action, a) for s in statements(own) for a in listed(s["Action"])
            ), action
    for statement in statements(own):
        if set(listed(statement["Action"])) & set(TAGGED.values()):
            tags = statement["Condition"]["StringEquals"]
            (kind,) = {key.split("/")[0] for key in tags if key.endswith("Tag/Environment")}
            assert tags[f"{kind}/Environment"] == main_stack, statement["Sid"]
            assert tags[f"{kind}/Project"] == "hello-birthday", statement["Sid"]


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_dns_rights_reach_only_the_stacks_own_names_in_its_zone(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack)
    for name, entry in declared_environments(stack).items():
        changes = [
            s
            for s in statements(policies_of(build, deploy_role(name)))
            if "route53:ChangeResourceRecordSets" in listed(s["Action"])
        ]
        if not entry["https"]:
            assert changes == []
            continue
        (change,) = changes
        zone = domain(name)
        assert change["Resource"] == [f"arn:aws:route53:::hostedzone/{zone['hostedZoneId']}"]
        assert change["Condition"] == {
            "ForAllValues:StringLike": {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                    zone["name"],
                    f"_*.{zone['name']}",
                ]
            },
            "ForAllValues:StringEquals": {
                "route53:ChangeResourceRecordSetsRecordTypes": ["A", "CNAME"]
            },
        }


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_outputs_name_every_role(bootstrapped: Bootstrapped, stack: str) -> None:
    outputs = bootstrapped(stack).outputs
    assert set(outputs["deploy_role_arns"]) == set(declared_environments(stack))
    for name, arn in outputs["deploy_role_arns"].items():
        assert arn.endswith(f":role/{deploy_role(name)}")
    assert outputs["preview_role_arn"].endswith(":role/hello-birthday-preview")


# --- the permissions boundary -------------------------------------------------------------------

BOUNDARY_KEY = "iam:PermissionsBoundary"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ALLOW_EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def iam_arn(policy: Registration) -> str:
    """The ARN IAM gives a customer-managed policy (at its default path)."""
    assert "path" not in policy.inputs
    return f"arn:aws:iam::{ACCOUNT}:policy/{policy.inputs['name']}"


def boundary_keyed_role_actions() -> set[str]:
    """IAM's actions on a role that take the iam:PermissionsBoundary condition key, from AWS's
    service authorization reference (parliament's copy)."""
    return {
        f"iam:{privilege['privilege']}"
        for service in parliament.iam_definition
        if service["prefix"] == "iam"
        for privilege in service["privileges"]
        if any(r["resource_type"] == "role*" for r in privilege["resource_types"])
        and any(BOUNDARY_KEY in r.get("condition_keys", []) for r in privilege["resource_types"])
    }


def required_boundaries(build: StackBuild, stack: str) -> set[str]:
    """The values a deploy role's statements require of the boundary on the roles it writes."""
    found = set()
    for statement in statements(policies_of(build, deploy_role(stack))):
        condition = statement.get("Condition", {})
        for operator in ("ArnEquals", "StringEquals"):
            if BOUNDARY_KEY in condition.get(operator, {}):
                found.add(condition[operator][BOUNDARY_KEY])
    return found


def boundary_policy(build: StackBuild, stack: str) -> Registration:
    """The policy the bootstrap creates as a stack's boundary: the one its deploy role requires."""
    (required,) = required_boundaries(build, stack)
    (policy,) = [p for p in build.of_type(POLICY) if iam_arn(p) == required]
    return policy


def boundary_document(build: StackBuild, stack: str) -> dict[str, Any]:
    document = json.loads(boundary_policy(build, stack).inputs["policy"])
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_each_environment_has_its_boundary_which_no_bootstrap_role_uses(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack, state_bucket=True)
    boundaries = {name: boundary_policy(build, name) for name in declared_environments(stack)}
    assert {name: policy.inputs["name"] for name, policy in boundaries.items()} == {
        name: f"hello-birthday-{name}-boundary" for name in declared_environments(stack)
    }
    attached = {a.inputs["policyArn"] for a in build.of_type(ATTACHMENT)}
    assert not {policy.arn for policy in boundaries.values()} & attached


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_every_role_write_iam_can_hold_to_a_boundary_requires_the_stacks(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack)
    keyed = boundary_keyed_role_actions()
    assert {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"} <= keyed
    for name in declared_environments(stack):
        required = iam_arn(boundary_policy(build, name))
        writes = [
            s
            for s in statements(policies_of(build, deploy_role(name)))
            if s["Effect"] == "Allow" and set(listed(s["Action"])) & keyed
        ]
        assert writes
        for statement in writes:
            condition = statement.get("Condition", {})
            values = [
                condition.get(op, {}).get(BOUNDARY_KEY) for op in ("ArnEquals", "StringEquals")
            ]
            assert required in values, statement["Sid"]


def role_write(action: str, role: str, boundary: str | None) -> Request:
    """A write to a role as IAM sees it: the boundary the role carries, or is given, and for an
    attachment the policy attached (the one the program attaches)."""
    context = {"iam:PolicyARN": LOAD_BALANCER_ROLE_POLICY} if "RolePolicy" in action else {}
    if boundary is not None:
        context[BOUNDARY_KEY] = boundary
    return Request(action, f"arn:aws:iam::{ACCOUNT}:role/{role}", context)


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_a_deploy_role_writes_a_role_only_with_its_stacks_boundary(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack)
    for name in declared_environments(stack):
        documents = list(policies_of(build, deploy_role(name)).values())
        own = iam_arn(boundary_policy(build, name))
        others = [own.replace(f"-{name}-", f"-{other}-") for other in ("dev", "staging", "prod")]
        role = f"hello-birthday-{name}-task-abcdefg"
        for action in sorted(boundary_keyed_role_actions()):
            # What `pulumi up` asks: create and change the stack's roles, all with its boundary.
            expected = action != "iam:DeleteRolePermissionsBoundary"
            assert authorized(documents, role_write(action, role, own)) is expected, action
            assert not authorized(documents, role_write(action, role, None)), action
            for boundary in others:
                allowed = authorized(documents, role_write(action, role, boundary))
                assert allowed is (expected and boundary == own), (action, boundary)
            for other_role in (deploy_role(name), "admin", "hello-birthday-x-task"):
                write = role_write(action, other_role, own)
                assert not authorized(documents, write), (action, other_role)


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_no_deploy_role_can_change_a_boundary_whatever_else_it_is_allowed(
    bootstrapped: Bootstrapped, stack: str
) -> None:
    build = bootstrapped(stack)
    boundaries = [iam_arn(boundary_policy(build, name)) for name in declared_environments(stack)]
    for name in declared_environments(stack):
        documents = [*policies_of(build, deploy_role(name)).values(), ALLOW_EVERYTHING]
        for boundary in boundaries:
            for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
                           "iam:DeletePolicyVersion", "iam:DeletePolicy"):  # fmt: skip
                assert not authorized(documents, Request(action, boundary)), (action, boundary)
        role = f"arn:aws:iam::{ACCOUNT}:role/hello-birthday-{name}-task-abcdefg"
        removal = Request("iam:DeleteRolePermissionsBoundary", role, {BOUNDARY_KEY: boundaries[0]})
        assert not authorized(documents, removal)
        # The planted Allow is live: without the deny the same document would allow.
        assert authorized([ALLOW_EVERYTHING], removal)


@pytest.mark.parametrize("main_stack", sorted(MAIN_STACKS))
def test_every_platform_role_carries_the_boundary_the_bootstrap_creates_for_its_stack(
    built: Callable[[str], StackBuild], bootstrapped: Bootstrapped, main_stack: str
) -> None:
    boundary = boundary_policy(bootstrapped(MAIN_STACKS[main_stack]), main_stack)
    roles = built(main_stack).of_type(ROLE)
    assert roles
    for role in roles:
        assert role.inputs.get("permissionsBoundary") == iam_arn(boundary), role.name


def role_documents(program: StackBuild, role: Registration) -> list[dict[str, Any]]:
    """A platform role's inline policies and the AWS managed policies attached to it."""
    own = (f"{role.name}-id", role.name)  # the mocks' id and name of the role
    documents = [json.loads(p.inputs["policy"]) for p in program.of_type(ROLE_POLICY)
                 if p.inputs["role"] in own]  # fmt: skip
    for attachment in program.of_type(ATTACHMENT):
        if attachment.inputs["role"] in own:
            arn = attachment.inputs["policyArn"]
            assert arn in MANAGED_POLICIES, f"add {arn}'s document to aws_managed_policies.py"
            documents.append(MANAGED_POLICIES[arn])
    assert documents, role.name
    return documents


def stack_resources(program: StackBuild) -> dict[str, str]:
    """Every resource of a main stack by the ARN the mocks gave it, with the ARN AWS gives it
    (named resources; the rest AWS names by random ids as the mocks do), and a stream of each
    log group."""
    arns = {r.arn: aws_arn(program, r) if r.type in NAMED else r.arn for r in program.resources}
    for group in program.of_type("aws:cloudwatch/logGroup:LogGroup"):
        arns[f"{group.arn}:log-stream:app"] = f"{aws_arn(program, group)}:log-stream:app"
    return arns


def role_requests(program: StackBuild, role: Registration) -> dict[str, list[Request]]:
    """By action, every request a platform role's own policies allow on its stack's resources.

    A resource the policy names by its ARN is that resource (as AWS names it); a pattern stands
    for every resource of the stack it matches. The request carries the values the statement's
    conditions require, and the stack's tags and region."""
    resources = stack_resources(program)
    by_aws_arn = sorted(resources, key=len, reverse=True)  # the longest ARN that names it
    found: dict[str, list[Request]] = {}
    for document in role_documents(program, role):
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            context = {
                "aws:RequestedRegion": "eu-west-1",
                "aws:ResourceTag/Project": "hello-birthday",
                "aws:ResourceTag/Environment": program.stack,
            }
            for operator, values in statement.get("Condition", {}).items():
                assert operator == "StringEquals", operator  # others: say what they require
                context |= values
            requests = []
            for named in listed(statement["Resource"]):
                # A resource the policy names by the ARN the mocks gave it: as AWS names it.
                mocked = next((m for m in by_aws_arn if named.startswith(m)), "")
                pattern = resources.get(mocked, "") + named.removeprefix(mocked)
                matched = ["*"] if pattern == "*" else [
                    arn for arn in resources.values() if fnmatchcase(arn, pattern)
                ]  # fmt: skip
                requests += [(resource, context) for resource in matched]
            for action in listed(statement["Action"]):
                found.setdefault(action, [])
                found[action] += [Request(action, r, c) for r, c in requests]
    return found


def moved(request: Request, stack: str, other: str) -> Request:
    """The same request on another stack's resources (or, on "*", in another region)."""
    resource = request.resource.replace(f"hello-birthday-{stack}", f"hello-birthday-{other}")
    resource = resource.replace(f"hb-{stack}-", f"hb-{other}-")
    context = dict(request.context) | {"aws:ResourceTag/Environment": other}
    if resource == "*":
        context["aws:RequestedRegion"] = "us-east-1"
    return Request(request.action, resource, context)


@pytest.mark.parametrize("main_stack", sorted(MAIN_STACKS))
def test_the_boundary_allows_what_each_platform_role_uses_on_its_stacks_resources_only(
    built: Callable[[str], StackBuild], bootstrapped: Bootstrapped, main_stack: str
) -> None:
    program = built(main_stack)
    boundary = boundary_document(bootstrapped(MAIN_STACKS[main_stack]), main_stack)
    roles = program.of_type(ROLE)
    assert roles
    for role in roles:
        for action, requests in role_requests(program, role).items():
            assert requests, (role.name, action)  # no action goes unchecked
            for request in requests:
                assert authorized([boundary], request), (role.name, request)
                for other in set(MAIN_STACKS) - {main_stack}:
                    elsewhere = moved(request, main_stack, other)
                    assert not authorized([boundary], elsewhere), (role.name, elsewhere)


def test_each_boundary_allows_no_action_that_no_platform_role_uses(
    built: Callable[[str], StackBuild], bootstrapped: Bootstrapped
) -> None:
    used = {
        action
        for main_stack in MAIN_STACKS
        for role in built(main_stack).of_type(ROLE)
        for action in role_requests(built(main_stack), role)
    }
    for main_stack, stack in MAIN_STACKS.items():
        boundary = boundary_document(bootstrapped(stack), main_stack)
        granted = {a for s in boundary["Statement"] for a in listed(s["Action"])}
        assert granted == used, main_stack
