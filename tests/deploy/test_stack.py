"""The adapter over pulumi.automation: what it hands the Automation API's Stack, checked with a
stand-in for that class (the real one needs the Pulumi CLI, which is not here)."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy.__main__ import connect
from deploy.paths import POLICY_PACK, ROOT
from deploy.policy import PolicyPack
from deploy.stack import IMAGE_KEY, AutomationStack
from pulumi import automation


class StandInStack:
    """Records the calls the adapter makes, with the Automation API's signatures."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def outputs(self) -> automation.OutputMap:
        return {
            "url": automation.OutputValue(value="https://hello.example.org", secret=False),
            "container_name": automation.OutputValue(value="app", secret=False),
        }

    def refresh(self, **options: Any) -> None:
        self.calls.append(("refresh", options))

    def set_config(self, key: str, value: automation.ConfigValue, *, path: bool = False) -> None:
        self.calls.append(("set_config", (key, value.value, value.secret, path)))

    def up(self, **options: Any) -> None:
        self.calls.append(("up", options))


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> tuple[StandInStack, dict[str, Any]]:
    stack = StandInStack()
    selected: dict[str, Any] = {}

    def select_stack(**options: Any) -> StandInStack:
        selected.update(options)
        return stack

    monkeypatch.setattr(automation, "select_stack", select_stack)
    return stack, selected


def test_the_stack_is_selected_in_the_project_directory(
    stand_in: tuple[StandInStack, dict[str, Any]],
) -> None:
    _, selected = stand_in

    AutomationStack.select("staging", ROOT)

    assert selected == {"stack_name": "staging", "work_dir": str(ROOT)}
    assert (ROOT / "Pulumi.yaml").is_file()


def test_the_program_selects_its_stack_in_the_project_directory(
    stand_in: tuple[StandInStack, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, selected = stand_in
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # boto3's clients need one; no call

    connect("staging")

    assert selected == {"stack_name": "staging", "work_dir": str(ROOT)}


def test_outputs_are_plain_values(stand_in: tuple[StandInStack, dict[str, Any]]) -> None:
    outputs = AutomationStack.select("dev", ROOT).outputs()

    assert outputs == {"url": "https://hello.example.org", "container_name": "app"}


def test_the_image_is_the_projects_image_setting(
    stand_in: tuple[StandInStack, dict[str, Any]],
) -> None:
    stack, _ = stand_in
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())

    AutomationStack.select("dev", ROOT).set_image("repo@sha256:" + "0" * 64)

    assert stack.calls == [("set_config", (IMAGE_KEY, "repo@sha256:" + "0" * 64, False, False))]
    assert f"{project['name']}:image" == IMAGE_KEY
    assert "image" in project["config"]


@pytest.mark.parametrize(
    ("stack_name", "configs"),
    [("dev", [str(POLICY_PACK / "policy-config.dev.json")]), ("prod", None)],
)
def test_up_enforces_the_policy_pack_with_the_stacks_config(
    stand_in: tuple[StandInStack, dict[str, Any]], stack_name: str, configs: list[str] | None
) -> None:
    stack, _ = stand_in
    pack = PolicyPack.for_stack(POLICY_PACK, stack_name)

    AutomationStack.select(stack_name, ROOT).up(pack.path, pack.config)

    ((name, options),) = stack.calls
    assert name == "up"
    assert options["policy_packs"] == [str(POLICY_PACK)]
    assert options["policy_pack_configs"] == configs
    assert options["on_output"] is print


def test_refresh_reads_the_real_state_and_shows_it(
    stand_in: tuple[StandInStack, dict[str, Any]],
) -> None:
    stack, _ = stand_in

    AutomationStack.select("dev", ROOT).refresh()

    assert stack.calls == [("refresh", {"on_output": print})]


@pytest.mark.parametrize(("stack_name", "allowed"), [("dev", True), ("staging", False)])
def test_plain_http_follows_the_stacks_policy_config(stack_name: str, allowed: bool) -> None:
    assert PolicyPack.for_stack(POLICY_PACK, stack_name).allows_plain_http() is allowed


def test_the_policy_config_names_the_pack_directory(tmp_path: Path) -> None:
    (tmp_path / "policy-config.dev.json").write_text('{"alb-listener-https": {}}')

    pack = PolicyPack.for_stack(tmp_path, "dev")

    assert pack.config == tmp_path / "policy-config.dev.json"
    assert not pack.allows_plain_http()
