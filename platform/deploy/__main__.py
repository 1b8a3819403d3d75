"""`python -m deploy --stack STACK --image REPO@sha256:DIGEST [--load-args "ARGS"]` (nox -s deploy).

Exits 0 when the image runs on the stack and passed its gates, 1 at the first failed step (one
line naming it), 2 on a usage error.
"""

import argparse
import shlex
import sys

import boto3

from deploy.deployment import Deployment, StepError, check_request
from deploy.gates import Gates
from deploy.paths import POLICY_PACK, ROOT
from deploy.policy import PolicyPack
from deploy.rollout import Cloud
from deploy.stack import AutomationStack


def load_args(text: str) -> list[str]:
    """The load gate's arguments, split as a shell would; empty is a mistake, not "no gate"."""
    args = shlex.split(text)
    if not args:
        raise argparse.ArgumentTypeError("empty: leave --load-args out for a stage without load")
    return args


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s deploy --", description=__doc__)
    parser.add_argument("--stack", required=True, help="Pulumi stack: dev, staging or prod")
    parser.add_argument("--image", required=True, help="REPOSITORY@sha256:<64 hex digits>")
    parser.add_argument(
        "--load-args",
        type=load_args,
        help="thresholds of the load gate, e.g. '--users 20 --duration 60s --p99-ms 300'; "
        "without them the stage runs no load gate",
    )
    return parser.parse_args(argv)


def connect(stack_name: str) -> tuple[AutomationStack, Cloud]:
    """The stack through the Pulumi CLI, ECS and ECR through boto3 (region from the environment)."""
    try:
        return AutomationStack.select(stack_name, ROOT), Cloud(
            boto3.client("ecs"), boto3.client("ecr")
        )
    except Exception as error:
        raise StepError("select the stack", f"{type(error).__name__}: {error}") from error


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    gates = Gates(ROOT, args.load_args)
    try:
        # Step 1 needs neither Pulumi nor AWS: a malformed request fails before either is asked.
        image = check_request(args.image, gates)
        stack, cloud = connect(args.stack)
        deployment = Deployment(
            stack_name=args.stack,
            stack=stack,
            cloud=cloud,
            gates=gates,
            policy_pack=PolicyPack.for_stack(POLICY_PACK, args.stack),
        )
        deployment.run(image)
    except StepError as failure:
        print(f"deploy: FAILED at {failure}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
