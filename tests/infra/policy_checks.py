"""Runs one guard rail's validate function on one resource, as the policy engine would."""

from collections.abc import Mapping
from typing import Any

from guardrails import Guardrail
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs


def violations(
    guardrail: Guardrail,
    resource_type: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type=resource_type,
        props=props,
        urn=f"urn:pulumi:test::hello-birthday::{resource_type}::example",
        name="example",
        opts=PolicyResourceOptions(
            protect=False,
            ignore_changes=[],
            delete_before_replace=None,
            aliases=[],
            custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
            additional_secret_outputs=[],
        ),
        provider=None,
        config=config,
    )
    guardrail.validate(args, lambda message, _urn: found.append(message))
    return found
