"""The deploy identities of one AWS account: reads the stack's settings once and wires them.

Each environment also gets its permissions boundary (boundary.py): every role its deploy role
creates or changes must carry it, so no role of the stack can do more than the platform's roles
need. Changing what a platform role may do therefore starts here: allow it in the boundary and
run this program's `pulumi up` as an administrator, then deploy the platform.
"""

import pulumi
from account import aws_provider, load_account_settings
from identities import DeployIdentities
from state_backend import KEY_ALIAS, StateBackend


def main() -> None:
    settings = load_account_settings()
    aws = pulumi.ResourceOptions(providers=[aws_provider(settings)])
    state = StateBackend("state", settings, opts=aws) if settings.state_bucket else None
    identities = DeployIdentities("github", settings, state=state, opts=aws)
    pulumi.export("deploy_role_arns", identities.deploy_role_arns)
    pulumi.export("preview_role_arn", identities.preview_role_arn)
    if state is not None:
        pulumi.export("backend_url", f"s3://{state.bucket}?region={settings.region}&awssdk=v2")
        pulumi.export("secrets_provider", f"awskms://{KEY_ALIAS}?region={settings.region}")


main()
