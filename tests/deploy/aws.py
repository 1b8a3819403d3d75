"""ECR and ECS on moto's server (in this process, on a loopback port), and an ECS control plane.

boto3 talks to moto over a real socket, as the deploy program does to AWS. What moto does not do
by itself, ECS's own work after a service update (a new deployment, its tasks, completing or
rolling back), EcsControlPlane does the way ECS would, through the API where moto has one and on
moto's model of the service where it has none (the deployments list and the running count).
"""

import enum
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
import httpx
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends
from moto.moto_api import state_manager
from moto.server import ThreadedMotoServer
from names import COLLECTOR_CONTAINER

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient

REGION: Final = "eu-west-1"
MANIFEST_TYPE: Final = "application/vnd.oci.image.manifest.v1+json"
# The collector the platform runs beside the service: another registry, not essential.
SIDECAR_IMAGE: Final = "public.ecr.aws/aws-observability/aws-otel-collector@sha256:" + "5" * 64


@dataclass(frozen=True)
class MotoAws:
    """boto3 clients of one moto server."""

    endpoint_url: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    @property
    def ecs(self) -> "ECSClient":
        client: ECSClient = self.client("ecs")
        return client

    @property
    def ecr(self) -> "ECRClient":
        client: ECRClient = self.client("ecr")
        return client

    def reset(self) -> None:
        """Forget every resource (moto's own API), and keep tasks RUNNING as ECS does: moto walks
        a task through its lifecycle on every describe unless told otherwise."""
        httpx.post(f"{self.endpoint_url}/moto-api/reset").raise_for_status()
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "time", "seconds": 10**6}
        )


@contextmanager
def moto_aws() -> Iterator[MotoAws]:
    """A moto server on a free loopback port for the duration of the block."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoAws(f"http://{host}:{port}")
    finally:
        server.stop()
        state_manager.unset_transition("ecs::task")


def manifest(seed: str) -> str:
    """An OCI image manifest (one config, one layer) whose bytes differ for each seed."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer of {seed}".encode()
    document = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": sha256(layer),
                "size": len(layer),
            }
        ],
    }
    return json.dumps(document, separators=(",", ":"))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_image(ecr: "ECRClient", repository: str, seed: str) -> str:
    """Put an image into the repository as a registry client would; its digest.

    ECR's digest is the sha256 of the manifest's bytes. moto derives one from the layer digests
    instead unless PutImage names it, so it is named here.
    """
    document = manifest(seed)
    digest = sha256(document.encode())
    ecr.put_image(
        repositoryName=repository,
        imageManifest=document,
        imageManifestMediaType=MANIFEST_TYPE,
        imageTag=hashlib.sha1(seed.encode()).hexdigest(),
        imageDigest=digest,
    )
    return digest


class Outcome(enum.Enum):
    """What ECS makes of the next service update."""

    COMPLETES = "the new revision runs on every task"
    ROLLS_BACK = "ECS returns the service to the task definition that ran before"
    RUNS_OTHER_IMAGE = "the registered task definition names another image than was asked"
    LEAVES_OLD_TASK = "completes, but one task of the old revision keeps running"
    STILL_ROLLING_OUT = "the new deployment is in progress beside the old one"
    NOT_STEADY = "one deployment, its tasks all running, but not yet COMPLETED"
    SHORT_OF_TASKS = "completed, but one task fewer runs than desired"


class EcsControlPlane:
    """The ECS service of a stack, updated the way Pulumi and then ECS would."""

    def __init__(
        self, aws: MotoAws, cluster: str, service: str, container: str, *, desired: int = 2
    ) -> None:
        self.aws = aws
        self.cluster = cluster
        self.service = service
        self.container = container
        self.desired = desired
        self.other_image = ""  # what Outcome.RUNS_OTHER_IMAGE registers
        ecs = aws.ecs
        ecs.create_cluster(clusterName=cluster)
        self._network = self._private_subnet()
        self._running_definition: str | None = None

    def update(self, image: str, outcome: Outcome) -> None:
        """Register a task definition for image (with the sidecar), update the service, and
        leave ECS in the state `outcome` describes."""
        ecs = self.aws.ecs
        asked = self.other_image if outcome is Outcome.RUNS_OTHER_IMAGE else image
        new = self._register(asked)
        before = self._running_definition
        if before is None:
            ecs.create_service(
                cluster=self.cluster,
                serviceName=self.service,
                taskDefinition=new,
                desiredCount=self.desired,
                launchType="FARGATE",
                networkConfiguration=self._network,
            )
        else:
            ecs.update_service(cluster=self.cluster, service=self.service, taskDefinition=new)
        final = before if outcome is Outcome.ROLLS_BACK and before is not None else new
        keep_old = 1 if outcome in {Outcome.LEAVES_OLD_TASK, Outcome.STILL_ROLLING_OUT} else 0
        running = self.desired - 1 if outcome is Outcome.SHORT_OF_TASKS else self.desired
        deployments = [self._deployment(final, running, "COMPLETED")]
        if outcome is Outcome.STILL_ROLLING_OUT and before is not None:
            deployments = [
                self._deployment(final, running - 1, "IN_PROGRESS"),
                {**self._deployment(before, 1, "COMPLETED"), "status": "ACTIVE"},
            ]
        elif outcome is Outcome.NOT_STEADY:
            deployments = [self._deployment(final, running, "IN_PROGRESS")]
        self._settle(final, keep_old, running, deployments)

    def _settle(
        self, definition: str, keep_old: int, running: int, deployments: list[dict[str, Any]]
    ) -> None:
        """running tasks of definition started, the others stopped but keep_old; ECS's
        deployments as given."""
        ecs = self.aws.ecs
        tasks = self._running_tasks()
        old = [task for task in tasks if task["taskDefinitionArn"] != definition]
        for task in old[keep_old:]:
            ecs.stop_task(cluster=self.cluster, task=task["taskArn"], reason="replaced")
        current = len(tasks) - len(old)
        if current < running:
            ecs.run_task(
                cluster=self.cluster,
                taskDefinition=definition,
                count=running - current,
                launchType="FARGATE",
                group=f"service:{self.service}",
                startedBy=deployments[0]["id"],
                networkConfiguration=self._network,
            )
        # No API sets these: moto keeps the deployment it made when the service was created.
        model = ecs_backends[DEFAULT_ACCOUNT_ID][REGION].services[f"{self.cluster}:{self.service}"]
        model.task_definition = definition
        model.running_count = running
        model.pending_count = self.desired - running
        model.deployments = deployments
        self._running_definition = definition

    def _deployment(self, definition: str, running: int, state: str) -> dict[str, Any]:
        """A PRIMARY deployment of definition as describe_services reports one."""
        deployment_id = f"ecs-svc/{abs(hash(definition)) % 10**12}"
        return {
            "id": deployment_id,
            "status": "PRIMARY",
            "taskDefinition": definition,
            "desiredCount": self.desired,
            "pendingCount": self.desired - running,
            "runningCount": running,
            "failedTasks": 0,
            "launchType": "FARGATE",
            "rolloutState": state,
            "rolloutStateReason": f"ECS deployment {deployment_id} {state.lower()}.",
        }

    def _register(self, image: str) -> str:
        answer = self.aws.ecs.register_task_definition(
            family=f"{self.cluster}-task",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            # The collector first: the service's container is found by its name, not its place.
            containerDefinitions=[
                {
                    "name": COLLECTOR_CONTAINER,
                    "image": SIDECAR_IMAGE,
                    "essential": False,
                    "memory": 64,
                },
                {"name": self.container, "image": image, "essential": True, "memory": 448},
            ],
        )
        return answer["taskDefinition"]["taskDefinitionArn"]

    def _running_tasks(self) -> list[Any]:
        ecs = self.aws.ecs
        arns = ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return []
        return [
            task
            for task in ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]
            if task.get("lastStatus") == "RUNNING"
        ]

    def _private_subnet(self) -> Any:
        """A subnet and security group for awsvpc tasks (moto's run_task fails without DNS
        hostnames on the VPC)."""
        ec2 = self.aws.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)
        return {
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group["GroupId"]],
                "assignPublicIp": "DISABLED",
            }
        }
