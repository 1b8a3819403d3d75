"""One release of one stack, in order, stopping at the first step that fails.

1. The image must be pinned by digest (and the load gate's thresholds must parse).
2. The stack's outputs name its ECR repository and ECS service; the image must be in that
   repository, with that digest.
3. The image ECS runs now is recorded (from ECS, not from Pulumi's state, which can name a
   revision that ECS rolled back): it is what a failed gate goes back to.
4. refresh, set the image, `up` with the policy pack. Refreshing first makes a re-run after an
   ECS rollback see the difference between the state and what runs, so `up` deploys again.
5. ECS must report one completed primary deployment running the image on every task.
6. The URL output must be https:// (http:// only where the stack's listener may serve it).
7. The smoke gate, then the load gate where the stage has one.
8. A failed gate, or a URL refused at step 6 (the release is live but untested), redeploys the
   recorded image (steps 4 and 5 again), and the run fails whatever that redeploy's outcome.
Step 1 is check_request, run before the stack is selected; steps 2 to 8 are Deployment.run.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from deploy.gates import GateError, Gates
from deploy.image import ImageRef, ImageReferenceError, parse_image
from deploy.policy import PolicyPack
from deploy.rollout import Cloud, RolloutError, Target
from deploy.stack import Stack

OUTPUTS = ("repository_url", "cluster_name", "service_name", "container_name", "url")

T = TypeVar("T")


def check_request(image_text: str, gates: Gates) -> ImageRef:
    """Step 1, before anything is selected or connected: the image and the load gate's args."""
    try:
        image = parse_image(image_text)
    except ImageReferenceError as refused:
        raise StepError("check the image", str(refused)) from None
    try:
        gates.check_load_args()
    except GateError as failure:
        raise StepError("check the load gate's arguments", str(failure)) from None
    return image


class StepError(Exception):
    """A step failed; the message names it and says what runs now where that is known."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step


@dataclass
class Deployment:
    """Deploy an image to one stack with its collaborators passed in (see __main__.py)."""

    stack_name: str
    stack: Stack
    cloud: Cloud
    gates: Gates
    policy_pack: PolicyPack
    say: Callable[[str], None] = print

    def run(self, image: ImageRef) -> None:
        """Deploy image (checked by check_request); StepError at the first step that fails."""
        outputs = self._outputs()
        self._check_registry(image, outputs["repository_url"])
        target = Target(outputs["cluster_name"], outputs["service_name"], outputs["container_name"])
        previous = self._step("record the running image", lambda: self.cloud.running_image(target))
        self.say(f"deploy: running before this deploy: {previous or 'nothing (no service yet)'}")
        self._step("refresh", self.stack.refresh)
        self._release(str(image), target)
        try:
            # A URL the gates cannot trust leaves the release untested: it fails like a gate.
            url = self._checked_url(self._outputs()["url"])
            self._step("smoke gate", lambda: self.gates.smoke(url))
            self._step("load gate", lambda: self.gates.load(url))
        except StepError as failure:
            raise StepError(
                "gates", f"{failure}; {self._go_back(previous, str(image), target)}"
            ) from failure
        self.say(f"deploy: {self.stack_name} runs {image} and passed its gates")

    def _outputs(self) -> dict[str, str]:
        outputs: Mapping[str, object] = self._step("read the stack outputs", self.stack.outputs)
        missing = [name for name in OUTPUTS if not isinstance(outputs.get(name), str)]
        if missing:
            raise StepError(
                "read the stack outputs",
                f"stack {self.stack_name} has no {', '.join(missing)} output "
                "(a stack is brought up once by hand first: docs/deploy.md)",
            )
        return {name: str(outputs[name]) for name in OUTPUTS}

    def _check_registry(self, image: ImageRef, repository_url: str) -> None:
        step = "check the image against the stack's registry"
        if image.repository != repository_url:
            raise StepError(
                step, f"{image.repository} is not stack {self.stack_name}'s {repository_url}"
            )
        if not self._step(step, lambda: self.cloud.holds(image)):
            raise StepError(step, f"{repository_url} holds no image with digest {image.digest}")

    def _release(self, image: str, target: Target) -> None:
        """Set the image, `up` with the policy pack, and verify what ECS runs."""
        self._step("set the image", lambda: self.stack.set_image(image))
        pack = self.policy_pack
        self._step("up", lambda: self.stack.up(pack.path, pack.config))
        self._step("verify the rollout", lambda: self.cloud.verify(target, image))
        self.say(f"deploy: ECS runs {image} on every task of {target.service}")

    def _checked_url(self, url: str) -> str:
        parts = urlsplit(url)
        schemes = {"https", "http"} if self.policy_pack.allows_plain_http() else {"https"}
        if parts.scheme not in schemes or not parts.hostname or url != url.strip():
            raise StepError(
                "check the URL",
                f"url output {url!r} of stack {self.stack_name} is not a "
                f"{' or '.join(sorted(schemes))} URL",
            )
        return url

    def _go_back(self, previous: str | None, image: str, target: Target) -> str:
        """Redeploy the image that ran before; what runs now, in words."""
        if previous is None:
            return f"no image ran before (first deploy): {image} stays deployed"
        if previous == image:
            return f"{image} already ran before this deploy: nothing to go back to"
        self.say(f"deploy: a gate failed; redeploying the image that ran before: {previous}")
        try:
            self._release(previous, target)
        except StepError as failure:
            now = self._describe_running(target)
            return f"redeploying {previous} failed too ({failure}); {now}"
        return f"redeployed the image that ran before, {previous}, and ECS runs it on every task"

    def _describe_running(self, target: Target) -> str:
        try:
            running = self.cloud.running_image(target)
        except Exception as error:  # a report of last resort: any failure will do
            return f"what ECS runs now could not be read ({error})"
        return f"ECS's primary deployment runs {running}"

    def _step(self, step: str, action: Callable[[], T]) -> T:
        """action(), with any failure of it reported as this step's."""
        self.say(f"deploy: {step}")
        try:
            return action()
        except StepError:
            raise
        except (RolloutError, GateError) as failure:
            raise StepError(step, str(failure)) from failure
        except Exception as error:
            raise StepError(step, f"{type(error).__name__}: {error}") from error
