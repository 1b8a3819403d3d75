"""Fixtures of the platform tests; the policy pack's rules import as its entry point does."""

import sys
from collections.abc import Callable

import pytest
from stack_builds import POLICY_PACK, StackBuild, build_stack

sys.path.insert(0, str(POLICY_PACK))


@pytest.fixture(scope="session")
def built() -> Callable[[str], StackBuild]:
    """Builds each stack at most once per test session."""
    cache: dict[str, StackBuild] = {}

    def get(stack: str) -> StackBuild:
        if stack not in cache:
            cache[stack] = build_stack(stack)
        return cache[stack]

    return get
