"""CrossGuard entry point: every guard rail as a mandatory policy.

Run with `pulumi preview --policy-pack platform/policy` (dev: see docs/deploy.md for
allowPlainHttp).
"""

from guardrails import GUARDRAILS
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="hello-birthday-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[guardrail.policy() for guardrail in GUARDRAILS],
)
