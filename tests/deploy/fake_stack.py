"""A stand-in for the Automation API stack: records every call, fails where it is told to, and
its `up` updates the ECS service (on moto) the way Pulumi and ECS would."""

from collections.abc import Mapping
from pathlib import Path

from aws import EcsControlPlane, Outcome


class FakeStack:
    """Implements deploy.stack.Stack."""

    def __init__(self, ecs: EcsControlPlane, outputs: Mapping[str, object]) -> None:
        self.ecs = ecs
        self.stack_outputs = dict(outputs)
        self.calls: list[tuple[str, ...]] = []
        self.failures: dict[str, Exception] = {}  # call name -> what it raises
        self.outcomes: list[Outcome] = []  # what ECS makes of each `up`, in turn; then COMPLETES
        self.image = ""

    def outputs(self) -> Mapping[str, object]:
        self._call("outputs")
        return dict(self.stack_outputs)

    def refresh(self) -> None:
        self._call("refresh")

    def set_image(self, image: str) -> None:
        self._call("set_image", image)
        self.image = image

    def up(self, policy_pack: Path, policy_pack_config: Path | None) -> None:
        self._call("up", str(policy_pack), str(policy_pack_config))
        outcome = self.outcomes.pop(0) if self.outcomes else Outcome.COMPLETES
        self.ecs.update(self.image, outcome)

    def _call(self, name: str, *args: str) -> None:
        self.calls.append((name, *args))
        if name in self.failures:
            raise self.failures[name]
