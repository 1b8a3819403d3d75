"""The AWS account a bootstrap stack manages: its settings, read and checked once, and its provider.

Settings only the user can know (the account, the repository, the domains) have no default: when
any is missing or malformed, one ConfigError names each of them with the command that sets it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

#: The main project, whose stacks the roles deploy; its resources are named `<project>-<stack>...`.
WORKLOAD_PROJECT = "hello-birthday"
#: The Environment tag of the bootstrap's own resources; no stack of the main project has it.
BOOTSTRAP_ENVIRONMENT = "bootstrap"
ACCOUNT_ID = re.compile(r"[0-9]{12}")
REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")
# Lower-case letters and digits only: a hyphen would let `hello-birthday-dev-*` cover the
# resources of a stack named `dev-x`.
STACK_NAME = re.compile(r"[a-z][a-z0-9]*")
GITHUB_ENVIRONMENT = re.compile(r"[A-Za-z0-9._-]+")
HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]+")
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class ConfigError(ValueError):
    """The stack's configuration is missing or malformed; the message says how to fix each part."""


@dataclass(frozen=True)
class Dns:
    """The name an environment serves HTTPS on, and the Route 53 zone that holds it."""

    domain: str
    hosted_zone_id: str


@dataclass(frozen=True)
class Environment:
    """One stack of the main project deployed in this account."""

    stack: str
    github_environment: str
    dns: Dns | None

    @property
    def name_prefix(self) -> str:
        """What the main program names this stack's resources (platform/config.py)."""
        return f"{WORKLOAD_PROJECT}-{self.stack}"

    @property
    def short_name_prefix(self) -> str:
        """The prefix of names AWS caps at 32 characters: load balancer, target groups."""
        initials = "".join(word[0] for word in WORKLOAD_PROJECT.split("-"))
        return f"{initials}-{self.stack}"

    @property
    def boundary_policy_name(self) -> str:
        """The permissions boundary of this stack's roles (boundary.py), by the name the main
        program gives each role's `permissions_boundary` (platform/config.py)."""
        return f"{self.name_prefix}-boundary"


@dataclass(frozen=True)
class AccountSettings:
    account_id: str
    region: str
    repository: str
    environments: tuple[Environment, ...]
    existing_oidc_provider: bool
    state_bucket: bool

    @property
    def tags(self) -> dict[str, str]:
        # An Environment no stack can have: no deploy role's tag conditions match these
        # resources, and none may retag them as its own (permissions.py).
        return {
            "Project": WORKLOAD_PROJECT,
            "Environment": BOOTSTRAP_ENVIRONMENT,
            "ManagedBy": "pulumi",
        }


def _set_command(stack: str, key: str, placeholder: str, path: bool = False) -> str:
    """The command that sets `key`, runnable from the repository's root; the user replaces
    the placeholder in angle brackets."""
    option = " --path" if path else ""
    return (
        f"pulumi config set{option} {key} <{placeholder}> --stack {stack} --cwd platform/bootstrap"
    )


class _Problems:
    """Collects every problem of the configuration, so one error can name them all."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.lines: list[str] = []

    def need(self, key: str, what: str, placeholder: str, path: bool = False) -> None:
        command = _set_command(self.stack, key, placeholder, path)
        self.lines.append(f"  {key}: {what}\n    {command}")

    def check(self) -> None:
        if self.lines:
            raise ConfigError(
                f"stack {self.stack!r} needs these settings, which only you can know:\n"
                + "\n".join(self.lines)
            )


def _text(config: pulumi.Config, key: str) -> str:
    return (config.get(key) or "").strip()


def _dns(config: pulumi.Config, stack: str, wanted: bool, problems: _Problems) -> Dns | None:
    if not wanted:
        return None
    domains: Mapping[str, Any] = config.get_object("domains") or {}
    entry = domains.get(stack) or {}
    domain = str(entry.get("name", "")).strip().rstrip(".").lower()
    zone = str(entry.get("hostedZoneId", "")).strip()
    if not DOMAIN.fullmatch(domain):
        problems.need(
            f"domains.{stack}.name",
            f"the host name stack {stack} serves HTTPS on (its `domain` setting)",
            "host name",
            path=True,
        )
    if not HOSTED_ZONE_ID.fullmatch(zone):
        problems.need(
            f"domains.{stack}.hostedZoneId",
            "the Route 53 hosted zone that holds it (its `hostedZoneId` setting)",
            "hosted zone id",
            path=True,
        )
    return Dns(domain=domain, hosted_zone_id=zone)


def load_account_settings() -> AccountSettings:
    """Read the current stack's configuration once; refuse it whole if anything is missing."""
    config = pulumi.Config()
    stack = pulumi.get_stack()
    problems = _Problems(stack)
    account_id = _text(config, "accountId")
    if not ACCOUNT_ID.fullmatch(account_id):
        problems.need(
            "accountId", "the 12-digit id of the AWS account this stack manages", "account id"
        )
    repository = _text(config, "githubRepository")
    if not REPOSITORY.fullmatch(repository):
        problems.need(
            "githubRepository",
            "OWNER/REPO of the GitHub repository whose workflows assume the roles, as GitHub "
            "spells it (the trust conditions compare it exactly)",
            "owner/repo",
        )
    declared: Mapping[str, Any] = config.get_object("environments") or {}
    environments = []
    for name, declaration in declared.items():
        entry: Mapping[str, Any] = declaration or {}
        github_environment = str(entry.get("githubEnvironment", ""))
        if (
            not STACK_NAME.fullmatch(name)
            or name == BOOTSTRAP_ENVIRONMENT
            or not GITHUB_ENVIRONMENT.fullmatch(github_environment)
        ):
            raise ConfigError(
                f"environments.{name}: a stack name of lower-case letters and digits (not "
                f"{BOOTSTRAP_ENVIRONMENT!r}), mapped to "
                f"{{githubEnvironment: <letters, digits, '.', '_' or '-'>, https: <bool>}}"
            )
        dns = _dns(config, name, bool(entry.get("https", False)), problems)
        environments.append(Environment(name, github_environment, dns))
    if not environments:
        raise ConfigError(
            f"stack {stack!r} declares no environments: its stack file maps each Pulumi stack "
            "of the main project deployed in this account to its GitHub environment"
        )
    problems.check()
    return AccountSettings(
        account_id=account_id,
        region=config.require("region"),
        repository=repository,
        environments=tuple(environments),
        existing_oidc_provider=config.require_bool("existingOidcProvider"),
        state_bucket=config.require_bool("stateBucket"),
    )


def aws_provider(settings: AccountSettings) -> aws.Provider:
    """The one provider of the stack: it refuses credentials of any other account."""
    return aws.Provider(
        "aws",
        region=settings.region,
        allowed_account_ids=[settings.account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags),
    )
