"""The Pulumi programs' requirements files, which the Pulumi CLI installs, pin what the tests run:
the `platform` dependency group of the root pyproject.toml."""

import tomllib
from pathlib import Path

import pytest
from stack_builds import BOOTSTRAP, POLICY_PACK, PROGRAM, ROOT

REQUIREMENTS = [PROGRAM / "requirements.txt", BOOTSTRAP / "requirements.txt",
                POLICY_PACK / "requirements.txt"]  # fmt: skip


def platform_group() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as pyproject:
        group = tomllib.load(pyproject)["dependency-groups"]["platform"]
    return {entry for entry in group if isinstance(entry, str)}


def pins(requirements: Path) -> list[str]:
    """Each requirement of the file; comments and pip options (`-e ../service`) aside."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


@pytest.mark.parametrize("requirements", REQUIREMENTS, ids=lambda path: path.parent.name)
def test_each_requirement_is_pinned_as_in_the_platform_group(requirements: Path) -> None:
    found = pins(requirements)
    assert found
    assert set(found) - platform_group() == set()
