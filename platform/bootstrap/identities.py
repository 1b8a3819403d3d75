"""The roles GitHub Actions assumes: one deploy role per environment, one preview role; and
each environment's permissions boundary, which every role its deploy role writes must carry.

Their permissions are customer-managed policies (permissions.py), one per area, each within
IAM's 6,144-character limit of a managed policy.
"""

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws
from account import WORKLOAD_PROJECT, AccountSettings
from boundary import permissions_boundary
from github_trust import (
    environment_subject,
    github_oidc_provider,
    pull_request_subject,
    trust_policy,
)
from permissions import (
    Document,
    deploy_documents,
    document,
    preview_documents,
    state_statements,
)
from state_backend import StateBackend

# A prod deployment waits for ECS through its bake time and then runs the gates: the
# workflow may ask for credentials that last up to two hours (AWS's default is one).
DEPLOY_SESSION_SECONDS = 2 * 3600


def role_name(purpose: str) -> str:
    """Outside `hello-birthday-<stack>-*`, the names the deploy roles may manage: no deploy
    role can change its own permissions or another identity's."""
    return f"{WORKLOAD_PROJECT}-{purpose}"


class DeployIdentities(pulumi.ComponentResource):
    """GitHub's OIDC provider, the roles that trust it, and the boundaries of the roles that
    the deploy roles write."""

    deploy_role_arns: dict[str, pulumi.Output[str]]
    preview_role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: AccountSettings,
        *,
        state: StateBackend | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hello-birthday:bootstrap:DeployIdentities", name, None, opts)
        self._state = state
        # The roles name the provider by its ARN, which AWS derives from the account and issuer:
        # one created here, or the account's own.
        self._github_provider = (
            []
            if settings.existing_oidc_provider
            else [github_oidc_provider(pulumi.ResourceOptions(parent=self))]
        )
        self.deploy_role_arns = {}
        for environment in settings.environments:
            permissions_boundary(settings, environment, pulumi.ResourceOptions(parent=self))
            self.deploy_role_arns[environment.stack] = self._role(
                f"deploy-{environment.stack}",
                trust_policy(
                    settings.account_id,
                    environment_subject(settings.repository, environment.github_environment),
                ),
                deploy_documents(settings, environment),
                [environment.stack],
                write=True,
                session_seconds=DEPLOY_SESSION_SECONDS,
            )
        self.preview_role_arn = self._role(
            "preview",
            trust_policy(settings.account_id, pull_request_subject(settings.repository)),
            preview_documents(settings),
            [environment.stack for environment in settings.environments],
            write=False,
            session_seconds=3600,
        )
        self.register_outputs(
            {"deploy_role_arns": self.deploy_role_arns, "preview_role_arn": self.preview_role_arn}
        )

    def _role(
        self,
        purpose: str,
        trust: str,
        documents: Mapping[str, Document],
        stacks: Sequence[str],
        *,
        write: bool,
        session_seconds: int,
    ) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        name = role_name(purpose)
        role = aws.iam.Role(
            name,
            name=name,
            assume_role_policy=trust,
            max_session_duration=session_seconds,
            # The trust policy names the provider by its ARN: it must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._github_provider),
        )
        policies = dict(documents)
        if self._state is not None:
            policies["state"] = document(
                *state_statements(stacks, self._state.bucket, self._state.key_arn, write=write)
            )
        for suffix, policy_document in policies.items():
            policy = aws.iam.Policy(
                f"{name}-{suffix}",
                name=f"{name}-{suffix}",
                # Compact: IAM counts every character but whitespace against the limit.
                policy=pulumi.Output.json_dumps(policy_document, separators=(",", ":")),
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-{suffix}", role=role.name, policy_arn=policy.arn, opts=child
            )
        return role.arn
