"""Step 1, which needs neither Pulumi nor AWS: the image and the load gate's arguments; the CLI."""

import pytest
from deploy.__main__ import main
from deploy.deployment import StepError, check_request
from deploy.gates import Gates
from deploy.image import ImageRef
from deploy.paths import ROOT

REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-birthday-dev"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def test_an_image_pinned_by_digest_is_accepted() -> None:
    image = check_request(f"{REPOSITORY}@{DIGEST}", Gates(ROOT, None))

    assert image == ImageRef(REPOSITORY, DIGEST)
    assert image.registry_id == "123456789012"
    assert image.repository_name == "hello-birthday-dev"


@pytest.mark.parametrize(
    "image",
    [
        f"{REPOSITORY}:0123abc",  # a tag can be moved
        f"{REPOSITORY}:latest@{DIGEST}",  # tag and digest: the tag would only mislead
        f"{REPOSITORY}@{DIGEST[:-1]}",  # 63 hex digits
        f"{REPOSITORY}@{DIGEST.upper()}",
        f"{REPOSITORY}@sha512:{'0' * 128}",
        f"{REPOSITORY}@{DIGEST}\n",
        f"@{DIGEST}",
        f"hello-birthday-dev@{DIGEST}",  # no registry host
        "",
    ],
    ids=[
        "tag",
        "tag-and-digest",
        "short-digest",
        "upper-case",
        "sha512",
        "newline",
        "no-repository",
        "no-host",
        "empty",
    ],
)
def test_an_image_not_pinned_by_digest_is_refused(image: str) -> None:
    with pytest.raises(StepError) as refused:
        check_request(image, Gates(ROOT, None))

    assert refused.value.step == "check the image"


def test_load_arguments_are_checked_by_the_load_gate_itself() -> None:
    accepted = Gates(ROOT, ["--users", "2", "--duration", "60s", "--p99-ms", "300"])
    refused = Gates(ROOT, ["--users", "2", "--duration", "60x"])

    assert check_request(f"{REPOSITORY}@{DIGEST}", accepted) == ImageRef(REPOSITORY, DIGEST)
    with pytest.raises(StepError) as failure:
        check_request(f"{REPOSITORY}@{DIGEST}", refused)
    assert failure.value.step == "check the load gate's arguments"


def test_the_cli_names_the_failed_step_and_exits_1_before_asking_pulumi_or_aws(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Were step 1 skipped, selecting the stack would fail instead (no Pulumi CLI here).
    code = main(["--stack", "dev", "--image", f"{REPOSITORY}:latest"])

    assert code == 1
    assert capsys.readouterr().err.startswith("deploy: FAILED at check the image: ")


def test_the_cli_refuses_empty_load_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["--stack", "dev", "--image", f"{REPOSITORY}@{DIGEST}", "--load-args", ""])

    assert usage.value.code == 2
    assert "--load-args" in capsys.readouterr().err
