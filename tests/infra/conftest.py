"""Fixtures of the platform tests; the programs' modules and the policy pack's rules import as
their entry points do."""

import sys
from collections.abc import Callable

import pytest
from stack_builds import BOOTSTRAP, POLICY_PACK, PROGRAM, StackBuild, build_stack

sys.path[:0] = [str(PROGRAM), str(POLICY_PACK), str(BOOTSTRAP)]


@pytest.fixture(scope="session")
def built() -> Callable[[str], StackBuild]:
    """Builds each stack at most once per test session."""
    cache: dict[str, StackBuild] = {}

    def get(stack: str) -> StackBuild:
        if stack not in cache:
            cache[stack] = build_stack(stack)
        return cache[stack]

    return get
