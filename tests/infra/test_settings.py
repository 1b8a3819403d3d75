"""What the program refuses before it registers anything: missing and contradictory settings."""

import json
from collections.abc import Callable

import pytest
from collector import COLLECTOR_CPU, COLLECTOR_MEMORY_MIB
from config import FARGATE_SIZES, ConfigError
from stack_builds import (
    COMPUTE_STACKS,
    PROJECT,
    ROOT,
    STACKS,
    StackBuild,
    build_stack,
    project_config,
)
from stack_builds import stack_config as operator_config

Build = Callable[[str], StackBuild]


def refusal(stack: str, config: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as refused:
        build_stack(stack, config)
    return str(refused.value)


@pytest.mark.parametrize(
    ("stack", "missing"),
    [
        ("dev", ["accountId", "image"]),
        ("staging", ["accountId", "image", "domain", "hostedZoneId"]),
        ("prod", ["accountId", "image", "domain", "hostedZoneId"]),
    ],
)
def test_a_committed_stack_names_every_missing_setting_and_its_command(
    stack: str, missing: list[str]
) -> None:
    message = refusal(stack, project_config(ROOT, stack))
    for key in missing:
        assert f"pulumi config set {key} " in message
        assert message.count(f"  {key} (") == 1
    assert message.count("pulumi config set") == len(missing)
    assert f"--stack {stack}" in message


def test_the_local_stack_runs_as_committed() -> None:
    build = build_stack("local", project_config(ROOT, "local"))
    assert build.outputs["table_name"] == f"{PROJECT}-local"


@pytest.mark.parametrize("stack", STACKS)
def test_no_stack_file_commits_a_domain_zone_image_or_cloud_account(stack: str) -> None:
    text = (ROOT / "environments" / f"Pulumi.{stack}.yaml").read_text()
    for key in ("domain", "hostedZoneId", "image"):
        assert f"{PROJECT}:{key}:" not in text
    assert (f"{PROJECT}:accountId:" in text) is (stack == "local")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"accountId": "12345"}, "accountId must be 12 digits"),
        ({"https": "false", "domain": "x.test"}, "used only with https: true"),
        ({"bakeTimeMinutes": "5"}, "bakeTimeMinutes applies to BLUE_GREEN"),
        ({"cpu": "256", "memory": "1536"}, "not a Fargate task size"),
        ({"cpu": "300"}, "not a Fargate task size"),
    ],
)
def test_contradictory_settings_are_refused(change: dict[str, str], complaint: str) -> None:
    config = operator_config("dev") | {f"{PROJECT}:{k}": v for k, v in change.items()}
    assert complaint in refusal("dev", config)


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_provider_refuses_any_other_account(built: Build, stack: str) -> None:
    provider = built(stack).one("pulumi:providers:aws").inputs
    assert json.loads(provider["allowedAccountIds"]) == [
        operator_config(stack)[f"{PROJECT}:accountId"]
    ]


def test_the_smallest_fargate_size_leaves_the_service_most_of_the_task() -> None:
    smallest_cpu = min(FARGATE_SIZES)
    smallest_memory = min(FARGATE_SIZES[smallest_cpu])
    assert smallest_cpu - COLLECTOR_CPU >= 0.75 * smallest_cpu
    assert smallest_memory - COLLECTOR_MEMORY_MIB >= 0.75 * smallest_memory
