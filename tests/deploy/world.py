"""One stack's world for the deploy program's tests: its ECR repository and ECS service on moto,
its fake Pulumi stack, and the deploy program's collaborators pointed at them."""

from collections.abc import Callable
from typing import Final

from aws import EcsControlPlane, MotoAws, push_image
from deploy.deployment import Deployment
from deploy.gates import Gates
from deploy.paths import POLICY_PACK, ROOT
from deploy.policy import PolicyPack
from deploy.rollout import Cloud, Target
from fake_stack import FakeStack
from names import APP_CONTAINER, SERVICE_NAME

CLUSTER: Final = "hello-birthday-dev"
# The names the platform gives the ECS service and its container (stack outputs).
SERVICE: Final = SERVICE_NAME
CONTAINER: Final = APP_CONTAINER


class World:
    """One stack's ECR repository and ECS service on moto, its fake Pulumi stack, and the
    deploy program's collaborators pointed at them."""

    def __init__(self, aws: MotoAws, stack_name: str, url: str) -> None:
        self.aws = aws
        self.stack_name = stack_name
        repository = aws.ecr.create_repository(repositoryName=f"hello-birthday-{stack_name}")
        self.repository_url = repository["repository"]["repositoryUri"]
        self.ecs = EcsControlPlane(aws, CLUSTER, SERVICE, CONTAINER)
        self.target = Target(CLUSTER, SERVICE, CONTAINER)
        self.stack = FakeStack(
            self.ecs,
            {
                "repository_url": self.repository_url,
                "cluster_name": CLUSTER,
                "service_name": SERVICE,
                "container_name": CONTAINER,
                "url": url,
            },
        )
        self.cloud = Cloud(aws.ecs, aws.ecr)
        self.policy_pack = PolicyPack.for_stack(POLICY_PACK, stack_name)

    def image(self, seed: str) -> str:
        """A new image pushed to the stack's repository, as REPOSITORY@sha256:DIGEST."""
        name = self.repository_url.split("/", 1)[1]
        return f"{self.repository_url}@{push_image(self.aws.ecr, name, seed)}"

    def running(self) -> str | None:
        """The image ECS runs in the service container now, read back over the wire."""
        return self.cloud.running_image(self.target)

    def deployment(self, load_args: str | None = None) -> Deployment:
        """The deploy program on this stack, its gates real (load_args: the load gate's)."""
        return Deployment(
            stack_name=self.stack_name,
            stack=self.stack,
            cloud=self.cloud,
            gates=Gates(ROOT, load_args.split() if load_args is not None else None),
            policy_pack=self.policy_pack,
        )


WorldMaker = Callable[..., World]
