"""The deploy program's steps against moto's ECR and ECS, a fake Pulumi stack and real gates.

The first test is a release that passes; every other one shows a step failing, each on its own.
"""

from typing import Final

import pytest
from aws import Outcome
from children import watch_children
from deploy.deployment import StepError
from deploy.gates import GATE_ENVIRONMENT
from deploy.image import parse_image
from deploy.paths import POLICY_PACK
from world import World, WorldMaker

# A bounded load on 127.0.0.1 whose thresholds the local service meets...
EASY_LOAD: Final = (
    "--users 2 --duration 3s --max-requests 60 --error-rate 0.2 --p99-ms 5000 --min-rps 1"
)
# ... and thresholds nothing meets, on an even smaller load.
IMPOSSIBLE_LOAD: Final = "--users 1 --duration 2s --max-requests 20 --min-rps 1000000"
CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_SESSION_TOKEN": "session",
    "PULUMI_ACCESS_TOKEN": "pul-token",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.invalid/",
    "GITHUB_TOKEN": "ghs_token",
}
NO_CONFIG: Final = str(None)  # how the fake stack records `up` without a policy config


def deployed(world: World, seed: str = "previous") -> str:
    """An image that already runs on the stack (a release before this one)."""
    image = world.image(seed)
    world.ecs.update(image, Outcome.COMPLETES)
    return image


def fails(world: World, image: str, load_args: str | None = None) -> StepError:
    with pytest.raises(StepError) as caught:
        world.deployment(load_args).run(parse_image(image))
    return caught.value


def release_calls(image: str, config: str) -> list[tuple[str, ...]]:
    """What a deployment asks of the stack up to and including its `up`."""
    return [("outputs",), ("refresh",), ("set_image", image), ("up", str(POLICY_PACK), config)]


# --- a release that passes ------------------------------------------------------------------


def test_a_release_runs_every_step_in_order_and_its_gates_without_credentials(
    world: WorldMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = world("dev")
    deployed(dev)
    image = dev.image("release")
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)

    with watch_children() as children:
        dev.deployment(EASY_LOAD).run(parse_image(image))

    # Refresh before up; dev's policy config beside the pack; the URL read after up.
    assert dev.stack.calls == [
        *release_calls(image, str(POLICY_PACK / "policy-config.dev.json")),
        ("outputs",),
    ]
    assert dev.running() == image
    smoke = children.running("tests/integration/test_api.py")
    load = children.running("tests.load")
    assert smoke
    assert load
    for environment in [*smoke, *load]:
        assert "PATH" in environment  # read from the process, and what it needs got through
        assert set(environment) <= set(GATE_ENVIRONMENT)
        assert not set(environment) & set(CREDENTIALS)


# --- refused before anything changes ------------------------------------------------------


def test_an_image_from_another_repository_is_refused(world: WorldMaker) -> None:
    dev = world("dev")
    elsewhere = (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-birthday-prod@sha256:" + "a" * 64
    )

    refused = fails(dev, elsewhere)

    assert refused.step == "check the image against the stack's registry"
    assert dev.repository_url in str(refused)
    assert dev.stack.calls == [("outputs",)]


def test_a_digest_the_stacks_repository_does_not_hold_is_refused(world: WorldMaker) -> None:
    dev = world("dev")
    previous = deployed(dev)
    absent = f"{dev.repository_url}@sha256:{'0' * 64}"

    refused = fails(dev, absent)

    assert refused.step == "check the image against the stack's registry"
    assert "holds no image with digest sha256:000" in str(refused)
    assert dev.stack.calls == [("outputs",)]
    assert dev.running() == previous


def test_a_stack_without_the_outputs_it_needs_is_refused(world: WorldMaker) -> None:
    dev = world("dev")
    del dev.stack.stack_outputs["container_name"]

    refused = fails(dev, dev.image("release"))

    assert refused.step == "read the stack outputs"
    assert "container_name" in str(refused)
    assert dev.stack.calls == [("outputs",)]


# --- deploy and rollout -------------------------------------------------------------------


def test_up_raising_fails_the_deploy_before_any_gate(world: WorldMaker) -> None:
    dev = world("dev")
    previous = deployed(dev)
    image = dev.image("release")
    dev.stack.failures["up"] = RuntimeError("error: update failed")

    refused = fails(dev, image, EASY_LOAD)

    assert refused.step == "up"
    assert "update failed" in str(refused)
    assert dev.stack.calls == release_calls(image, str(POLICY_PACK / "policy-config.dev.json"))
    assert dev.running() == previous


def test_ecs_rolling_back_to_the_old_task_definition_fails_the_rollout(
    world: WorldMaker,
) -> None:
    staging = world("staging", url="https://staging.invalid")
    previous = deployed(staging)
    image = staging.image("release")
    staging.stack.outcomes = [Outcome.ROLLS_BACK]

    refused = fails(staging, image)

    assert refused.step == "verify the rollout"
    assert f"ECS runs {previous}" in str(refused)
    # staging has no policy config: the pack alone, every rule mandatory. No gate ran.
    assert staging.stack.calls == release_calls(image, NO_CONFIG)


def test_another_digest_running_fails_the_rollout(world: WorldMaker) -> None:
    dev = world("dev")
    deployed(dev)
    image = dev.image("release")
    dev.ecs.other_image = dev.image("something else")
    dev.stack.outcomes = [Outcome.RUNS_OTHER_IMAGE]

    refused = fails(dev, image)

    assert refused.step == "verify the rollout"
    assert f"ECS runs {dev.ecs.other_image}" in str(refused)
    assert f"not {image}" in str(refused)


def test_a_task_of_the_old_revision_still_running_fails_the_rollout(world: WorldMaker) -> None:
    dev = world("dev")
    deployed(dev)
    image = dev.image("release")
    dev.stack.outcomes = [Outcome.LEAVES_OLD_TASK]

    refused = fails(dev, image)

    assert refused.step == "verify the rollout"
    assert "tasks of an older task definition still run" in str(refused)


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (Outcome.STILL_ROLLING_OUT, "2 deployments, not one"),
        (Outcome.NOT_STEADY, "the deployment is PRIMARY IN_PROGRESS, not PRIMARY COMPLETED"),
        (Outcome.SHORT_OF_TASKS, "1 tasks running (deployment: 1) of 2 desired"),
    ],
)
def test_a_rollout_ecs_has_not_finished_fails(
    world: WorldMaker, outcome: Outcome, reason: str
) -> None:
    dev = world("dev")
    deployed(dev)
    dev.stack.outcomes = [outcome]

    refused = fails(dev, dev.image("release"))

    assert refused.step == "verify the rollout"
    assert reason in str(refused)


# --- the URL and the gates: a failure redeploys what ran before -----------------------------


def redeployed(world: World, image: str, previous: str, config: str) -> None:
    """The stack was asked for image, then for previous again, and ECS runs previous."""
    assert world.stack.calls == [
        *release_calls(image, config),
        ("outputs",),
        ("set_image", previous),
        ("up", str(POLICY_PACK), config),
    ]
    assert world.running() == previous


@pytest.mark.parametrize(
    ("stack_name", "url"),
    [
        ("dev", ""),
        ("staging", "http://staging.invalid"),
        ("prod", "https://"),
        ("dev", "ftp://dev.invalid"),
    ],
    ids=["empty", "plain-http-on-staging", "no-host", "not-http"],
)
def test_a_url_the_gates_cannot_trust_fails_and_redeploys(
    world: WorldMaker, stack_name: str, url: str
) -> None:
    stack = world(stack_name, url=url)
    previous = deployed(stack)
    image = stack.image("release")

    refused = fails(stack, image)

    assert refused.step == "gates"
    assert "check the URL" in str(refused)
    assert f"redeployed the image that ran before, {previous}" in str(refused)
    config = NO_CONFIG if stack_name != "dev" else str(POLICY_PACK / "policy-config.dev.json")
    redeployed(stack, image, previous, config)


def test_a_failed_smoke_gate_redeploys_the_image_that_ran_before(
    world: WorldMaker, broken_url: str
) -> None:
    dev = world("dev", url=broken_url)
    previous = deployed(dev)
    image = dev.image("release")

    refused = fails(dev, image, EASY_LOAD)

    assert refused.step == "gates"
    assert "smoke gate failed" in str(refused)
    assert f"redeployed the image that ran before, {previous}" in str(refused)
    redeployed(dev, image, previous, str(POLICY_PACK / "policy-config.dev.json"))


def test_a_failed_load_gate_redeploys_the_image_that_ran_before(world: WorldMaker) -> None:
    dev = world("dev")
    previous = deployed(dev)
    image = dev.image("release")

    refused = fails(dev, image, IMPOSSIBLE_LOAD)

    assert refused.step == "gates"
    assert "load gate failed" in str(refused)
    redeployed(dev, image, previous, str(POLICY_PACK / "policy-config.dev.json"))


def test_a_failed_gate_on_a_first_deploy_has_nothing_to_go_back_to(
    world: WorldMaker, broken_url: str
) -> None:
    dev = world("dev", url=broken_url)
    image = dev.image("first")

    refused = fails(dev, image)

    assert "smoke gate failed" in str(refused)
    assert f"no image ran before (first deploy): {image} stays deployed" in str(refused)
    assert [call[0] for call in dev.stack.calls].count("up") == 1
    assert dev.running() == image


def test_a_failed_redeploy_says_what_runs_now(world: WorldMaker, broken_url: str) -> None:
    dev = world("dev", url=broken_url)
    previous = deployed(dev)
    image = dev.image("release")
    dev.stack.outcomes = [Outcome.COMPLETES, Outcome.ROLLS_BACK]  # ECS refuses the way back

    refused = fails(dev, image)

    assert f"redeploying {previous} failed too" in str(refused)
    assert f"ECS's primary deployment runs {image}" in str(refused)


def test_a_failed_gate_after_redeploying_the_same_image_goes_nowhere(
    world: WorldMaker, broken_url: str
) -> None:
    dev = world("dev", url=broken_url)
    image = deployed(dev, "release")

    refused = fails(dev, image)

    assert f"{image} already ran before this deploy: nothing to go back to" in str(refused)
    assert [call[0] for call in dev.stack.calls].count("up") == 1
