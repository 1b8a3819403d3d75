"""What ECR and ECS say about a release, read with boto3: the image is there, and it is what runs.

The ECS checks read the service's deployments, not Pulumi's state: after a rollback the state
still names the new image while ECS runs the old one.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deploy.image import ImageRef

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import ServiceTypeDef, TaskTypeDef

# describe_tasks takes at most this many tasks per call.
DESCRIBE_TASKS_LIMIT = 100


class RolloutError(Exception):
    """ECS does not run the requested image everywhere, or not yet."""


@dataclass(frozen=True)
class Target:
    """The ECS service a stack deploys, and the name of its own container in the task."""

    cluster: str
    service: str
    container: str


class Cloud:
    """ECR and ECS of the stack's account and region."""

    def __init__(self, ecs: "ECSClient", ecr: "ECRClient") -> None:
        self._ecs = ecs
        self._ecr = ecr

    def holds(self, image: ImageRef) -> bool:
        """True when the image's ECR repository holds a manifest with the image's digest."""
        try:
            self._ecr.describe_images(
                registryId=image.registry_id,
                repositoryName=image.repository_name,
                imageIds=[{"imageDigest": image.digest}],
            )
        except self._ecr.exceptions.ImageNotFoundException:
            return False
        return True

    def running_image(self, target: Target) -> str | None:
        """The image of the primary deployment's service container; None without a service."""
        service = self._service(target)
        if service is None:
            return None
        primary = [d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"]
        if not primary:
            return None
        return self._container_image(primary[0]["taskDefinition"], target.container)

    def verify(self, target: Target, image: str) -> None:
        """RolloutError unless one completed primary deployment runs `image` on every task."""
        service = self._service(target)
        if service is None:
            raise RolloutError(f"service {target.service} not found in cluster {target.cluster}")
        deployments = service.get("deployments", [])
        if len(deployments) != 1:
            states = ", ".join(
                f"{d.get('status')} {d.get('rolloutState')} {d.get('taskDefinition')}"
                for d in deployments
            )
            raise RolloutError(f"{len(deployments)} deployments, not one: {states}")
        (deployment,) = deployments
        if deployment.get("status") != "PRIMARY" or deployment.get("rolloutState") != "COMPLETED":
            raise RolloutError(
                f"the deployment is {deployment.get('status')} {deployment.get('rolloutState')}, "
                f"not PRIMARY COMPLETED: {deployment.get('rolloutStateReason', '')}"
            )
        desired = service.get("desiredCount", 0)
        running = (service.get("runningCount", 0), deployment.get("runningCount", 0))
        if desired < 1 or running != (desired, desired):
            raise RolloutError(
                f"{running[0]} tasks running (deployment: {running[1]}) of {desired} desired"
            )
        definition = deployment["taskDefinition"]
        runs = self._container_image(definition, target.container)
        if runs != image:
            raise RolloutError(
                f"ECS runs {runs} in container {target.container} ({definition}), not {image}: "
                "rolled back, or another deployment replaced it"
            )
        stale = [t for t in self._running_tasks(target) if t["taskDefinitionArn"] != definition]
        if stale:
            names = ", ".join(f"{t['taskArn']} ({t['taskDefinitionArn']})" for t in stale)
            raise RolloutError(f"tasks of an older task definition still run: {names}")

    def _service(self, target: Target) -> "ServiceTypeDef | None":
        answer = self._ecs.describe_services(cluster=target.cluster, services=[target.service])
        active = [s for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
        return active[0] if active else None

    def _container_image(self, task_definition: str, container: str) -> str:
        answer = self._ecs.describe_task_definition(taskDefinition=task_definition)
        definitions = answer["taskDefinition"].get("containerDefinitions", [])
        images = [d.get("image", "") for d in definitions if d.get("name") == container]
        if len(images) != 1:
            raise RolloutError(f"{task_definition} has {len(images)} containers named {container}")
        return images[0]

    def _running_tasks(self, target: Target) -> Iterator["TaskTypeDef"]:
        """The service's tasks that run now (lastStatus RUNNING) and are meant to keep running.

        ECS puts a service's tasks in group `service:<name>`; checking it too keeps this exact
        where list_tasks ignores serviceName (moto does).
        """
        pages = self._ecs.get_paginator("list_tasks").paginate(
            cluster=target.cluster, serviceName=target.service, desiredStatus="RUNNING"
        )
        arns = [arn for page in pages for arn in page.get("taskArns", [])]
        for start in range(0, len(arns), DESCRIBE_TASKS_LIMIT):
            chunk = arns[start : start + DESCRIBE_TASKS_LIMIT]
            for task in self._ecs.describe_tasks(cluster=target.cluster, tasks=chunk)["tasks"]:
                if task.get("group") == f"service:{target.service}" and (
                    task.get("lastStatus") == "RUNNING"
                ):
                    yield task
