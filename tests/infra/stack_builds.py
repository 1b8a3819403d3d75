"""Builds the real Pulumi program for a stack, from its real config files, under mocks.

Every build starts with fresh Pulumi runtime state; tests then assert on plain records of what
was registered (inputs and resource options), with every output already resolved.
"""

import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pulumi
import pulumi.runtime.settings
import yaml
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.stack import Stack

ProgramRun = Callable[[], pulumi.Output[None]]
ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "platform"
POLICY_PACK = PROGRAM / "policy"
BOOTSTRAP = PROGRAM / "bootstrap"
PROJECT = "hello-birthday"
STACKS = ("dev", "staging", "prod", "local")
COMPUTE_STACKS = ("dev", "staging", "prod")
ACCOUNT = "123456789012"
# What the delivery pipeline sets with `pulumi config set image ...` before `pulumi up`.
TEST_IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/hello-birthday:0123abc"


def operator_settings(stack: str, https: bool) -> dict[str, str]:
    """What an operator sets per account before the first deploy (no stack file commits them)."""
    settings = {"accountId": ACCOUNT, "image": TEST_IMAGE}
    if https:
        settings |= {"domain": f"{stack}.hello-birthday.test", "hostedZoneId": f"Z{stack.upper()}"}
    return settings


@dataclass(frozen=True)
class Registration:
    """One resource as the program registered it."""

    type: str
    name: str
    urn: str
    custom: bool
    inputs: dict[str, Any]
    provider: str
    parent: str
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    custom_timeouts: dict[str, str]
    #: URNs of the resources it waits for (depends_on, and those its inputs come from).
    dependencies: tuple[str, ...]
    #: The ARN the mocks gave it, which other resources' inputs (policies) refer to it by.
    arn: str


@dataclass(frozen=True)
class StackBuild:
    stack: str
    resources: tuple[Registration, ...]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[Registration]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str) -> Registration:
        (resource,) = self.of_type(type_)
        return resource

    def types(self) -> set[str]:
        return {resource.type for resource in self.resources}


def project_config(project_dir: Path, stack: str) -> dict[str, str]:
    """The Pulumi.yaml defaults of the project in `project_dir` overlaid with its stack file
    (Pulumi.<stack>.yaml in its stackConfigDir), as the CLI does."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    name = project["name"]
    values: dict[str, Any] = {
        f"{name}:{key}": schema["default"] for key, schema in project["config"].items()
    }
    stack_file = project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"
    values.update(yaml.safe_load(stack_file.read_text())["config"])
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }


def stack_config(stack: str) -> dict[str, str]:
    """The main project's configuration of a stack, completed with what an operator sets where
    the stack file commits nothing (operator_settings)."""
    committed = project_config(ROOT, stack)
    https = json.loads(committed[f"{PROJECT}:https"])
    operator = {f"{PROJECT}:{key}": value for key, value in operator_settings(stack, https).items()}
    return committed | {key: value for key, value in operator.items() if not committed[key]}


def _arn(type_: str, name: str, region: str) -> str:
    service = type_.split(":")[1].split("/", maxsplit=1)[0]
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{type_.rsplit(':', 1)[1].lower()}/{name}"


class AwsMocks(pulumi.runtime.Mocks):
    """Stands in for AWS: echoes inputs and fills in the attributes AWS would compute."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.inputs[(args.typ, args.name)] = args.inputs
        arn = _arn(args.typ, args.name, self.region)
        state: dict[str, Any] = {"arn": arn, "name": args.name, **args.inputs}
        computed: dict[str, dict[str, Any]] = {
            "aws:lb/loadBalancer:LoadBalancer": {
                "arnSuffix": f"app/{args.name}/0123456789abcdef",
                "dnsName": f"{args.name}.{self.region}.elb.amazonaws.com",
                "zoneId": "Z32O12XQLNTSW2",
            },
            "aws:lb/targetGroup:TargetGroup": {
                "arnSuffix": f"targetgroup/{args.name}/0123456789abcdef"
            },
            "aws:acm/certificate:Certificate": {
                "domainValidationOptions": [
                    {
                        "domainName": args.inputs.get("domainName"),
                        "resourceRecordName": f"_x.{args.inputs.get('domainName')}.",
                        "resourceRecordType": "CNAME",
                        "resourceRecordValue": "_y.acm-validations.aws.",
                    }
                ]
            },
            "aws:route53/record:Record": {"fqdn": args.inputs.get("name")},
            # The ARN forms AWS gives them, which IAM policies scope to.
            "aws:cloudwatch/logGroup:LogGroup": {
                "arn": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{args.inputs.get('name')}"
            },
            "aws:ecr/repository:Repository": {
                "arn": f"arn:aws:ecr:{self.region}:{ACCOUNT}:repository/{state['name']}",
                "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{state['name']}",
            },
            "aws:kms/key:Key": {"keyId": f"key-{args.name}"},
        }
        state.update(computed.get(args.typ, {}))
        return f"{args.name}-id", state

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{zone}" for zone in "abc"]
            return {"names": names, "zoneIds": names}, []
        raise NotImplementedError(f"unexpected invoke {args.token}")


class RecordingMonitor(MockMonitor):
    """Keeps the resource options that never reach Mocks.new_resource (protect, provider, ...)."""

    mocks: AwsMocks

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        register: Callable[[Any], Any] = super().RegisterResource  # untyped in the SDK
        response = register(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    custom=request.custom,
                    inputs=self.mocks.inputs[(request.type, request.name)],
                    provider=request.provider,
                    parent=request.parent,
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    ignore_changes=tuple(request.ignoreChanges),
                    custom_timeouts={
                        operation: getattr(request.customTimeouts, operation)
                        for operation in ("create", "update", "delete")
                        if getattr(request.customTimeouts, operation)
                    },
                    dependencies=tuple(request.dependencies),
                    arn=self.resources[response.urn].state["arn"],
                )
            )
        return response


def build_stack(
    stack: str,
    config: dict[str, str] | None = None,
    *,
    program: Path = PROGRAM,
    project: str = PROJECT,
) -> StackBuild:
    """Run a program (platform/__main__.py unless told) the way the CLI does, with fresh
    runtime state; `config` defaults to the main project's configuration of the stack."""
    config = stack_config(stack) if config is None else config
    mocks = AwsMocks(region=config[f"{project}:region"])
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.settings.ROOT.set(None)  # a new root Stack resource for this stack
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config)
    outputs: dict[str, Any] = {}

    def run() -> pulumi.Output[None]:
        runpy.run_path(str(program), run_name="__main__")
        root = cast(Stack, pulumi.runtime.get_root_resource())
        return pulumi.Output.all(**root.outputs).apply(outputs.update)

    # pulumi.runtime.test waits for every registration and for the returned Output.
    awaited = cast(Callable[[ProgramRun], Callable[[], None]], pulumi.runtime.test)
    awaited(run)()
    return StackBuild(stack, tuple(monitor.registrations), outputs)
