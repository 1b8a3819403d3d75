"""The Pulumi stack as the deploy program sees it, and its adapter over `pulumi.automation`.

The adapter stays thin (one call each) because it cannot run without the Pulumi CLI; the order
of the calls and every check between them live in deployment.py, tested with a fake stack.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from pulumi import automation

# The program's config key for the image the service runs (Pulumi.yaml, `config.image`).
IMAGE_KEY = "hello-birthday:image"


class Stack(Protocol):
    """What a deployment does to one stack."""

    def outputs(self) -> Mapping[str, object]:
        """The stack's outputs, by name."""
        ...

    def refresh(self) -> None:
        """Read the real state of every resource into the stack's state."""
        ...

    def set_image(self, image: str) -> None:
        """Set the image the next `up` deploys."""
        ...

    def up(self, policy_pack: Path, policy_pack_config: Path | None) -> None:
        """Deploy, with the policy pack enforced (and its config, where the stack has one)."""
        ...


class AutomationStack:
    """A stack of this project driven through the Automation API (the Pulumi CLI underneath)."""

    def __init__(self, stack: automation.Stack) -> None:
        self._stack = stack

    @classmethod
    def select(cls, name: str, project_dir: Path) -> "AutomationStack":
        """The existing stack `name` of the project in project_dir (where Pulumi.yaml is)."""
        return cls(automation.select_stack(stack_name=name, work_dir=str(project_dir)))

    def outputs(self) -> Mapping[str, object]:
        return {name: output.value for name, output in self._stack.outputs().items()}

    def refresh(self) -> None:
        self._stack.refresh(on_output=print)

    def set_image(self, image: str) -> None:
        self._stack.set_config(IMAGE_KEY, automation.ConfigValue(value=image))

    def up(self, policy_pack: Path, policy_pack_config: Path | None) -> None:
        configs = [str(policy_pack_config)] if policy_pack_config else None
        self._stack.up(
            policy_packs=[str(policy_pack)],
            policy_pack_configs=configs,
            diff=True,
            on_output=print,
        )
