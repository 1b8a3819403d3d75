"""What the workflow linters cannot see: calls between workflows, and when the stages run.

actionlint checks each workflow file alone, so a caller's `with:` and `secrets:` are never
compared with the called workflow's `on.workflow_call`. GitHub adds success() to a job condition
without a status function, and success() is false when any ancestor was skipped: the stages must
say `!cancelled()` and check the stage before them themselves.
"""

from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from deploy.paths import ROOT

WORKFLOWS: Final = ROOT / ".github" / "workflows"
LOCAL_CALL: Final = "./.github/workflows/"
PIPELINE: Final = "deploy.yml"
STAGE_WORKFLOW: Final = LOCAL_CALL + "promote.yml"


def load(path: Path) -> dict[Any, Any]:
    """A workflow as PyYAML reads it (its keys are strings, but for `on`: see triggers)."""
    document: dict[Any, Any] = yaml.safe_load(path.read_text())
    return document


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping (YAML 1.1, which PyYAML reads, makes the bare key `on` a boolean)."""
    on = workflow.get("on", workflow.get(True))
    return on if isinstance(on, dict) else {}


def declared(called: dict[Any, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The inputs or secrets of a reusable workflow, by name."""
    call = triggers(called).get("workflow_call") or {}
    return {name: spec or {} for name, spec in (call.get(kind) or {}).items()}


def local_calls() -> list[tuple[str, str, dict[str, Any]]]:
    """(workflow file, job id, job) for every job that calls a workflow of this repository."""
    return [
        (path.name, job_id, job)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for job_id, job in load(path)["jobs"].items()
        if str(job.get("uses", "")).startswith(LOCAL_CALL)
    ]


def call_mismatches(job: dict[str, Any]) -> list[str]:
    """What the call gives that the called workflow does not declare, and what it requires
    that the call does not give."""
    called = load(ROOT / job["uses"])
    problems = []
    for kind, given in (("inputs", job.get("with") or {}), ("secrets", job.get("secrets") or {})):
        if kind == "secrets" and given == "inherit":
            continue
        specs = declared(called, kind)
        problems += [f"{kind}: {name} is not declared" for name in given if name not in specs]
        problems += [
            f"{kind}: required {name} is not given"
            for name, spec in specs.items()
            if spec.get("required") is True and name not in given
        ]
    return problems


def test_the_pipeline_calls_ci_and_one_workflow_per_stage() -> None:
    calls = {(workflow, job_id): job["uses"] for workflow, job_id, job in local_calls()}

    assert calls == {
        (PIPELINE, "checks"): LOCAL_CALL + "ci.yml",
        (PIPELINE, "dev"): STAGE_WORKFLOW,
        (PIPELINE, "staging"): STAGE_WORKFLOW,
        (PIPELINE, "prod"): STAGE_WORKFLOW,
    }


@pytest.mark.parametrize(
    "job", [pytest.param(job, id=f"{workflow}:{job_id}") for workflow, job_id, job in local_calls()]
)
def test_a_call_gives_exactly_what_the_called_workflow_declares(job: dict[str, Any]) -> None:
    assert call_mismatches(job) == [], f"calls {job['uses']}"


def test_every_stage_runs_exactly_when_the_stage_before_succeeded() -> None:
    jobs = load(WORKFLOWS / PIPELINE)["jobs"]
    stages = {job_id: job for job_id, job in jobs.items() if job.get("uses") == STAGE_WORKFLOW}

    assert list(stages) == ["dev", "staging", "prod"]
    for job_id, job in stages.items():
        condition = " ".join(str(job.get("if", "")).split())
        for before in latest_needs(jobs, job_id):
            assert f"needs.{before}.result == 'success'" in condition, job_id
        assert "!cancelled()" in condition, job_id
        assert "always()" not in condition, job_id


def latest_needs(jobs: dict[str, Any], job_id: str) -> set[str]:
    """The job's needs that no other of its needs depends on: each ran just before it, and
    its success implies that of the others."""
    needs = set(as_list(jobs[job_id].get("needs")))
    return {need for need in needs if not any(need in ancestors(jobs, other) for other in needs)}


def ancestors(jobs: dict[str, Any], job_id: str) -> set[str]:
    found: set[str] = set()
    for need in as_list(jobs[job_id].get("needs")):
        found |= {need, *ancestors(jobs, need)}
    return found


def as_list(needs: str | list[str] | None) -> list[str]:
    if needs is None:
        return []
    return [needs] if isinstance(needs, str) else needs
