"""Registry: the stack's ECR repository."""

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Untagged layers go after a day; the newest tagged images stay for rollbacks.
KEEP_TAGGED_IMAGES = 30
LIFECYCLE_POLICY = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the newest {KEEP_TAGGED_IMAGES} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": KEEP_TAGGED_IMAGES,
                },
                "action": {"type": "expire"},
            },
        ]
    }
)


@dataclass(frozen=True)
class RegistryArgs:
    repository_name: str


class Registry(pulumi.ComponentResource):
    """Immutable tags (a git SHA names one image forever), scan on push, lifecycle rules."""

    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")
            ],
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle", repository=repository.name, policy=LIFECYCLE_POLICY, opts=child
        )

        self.repository_url = repository.repository_url
        self.repository_arn = repository.arn
        self.register_outputs(
            {"repository_url": self.repository_url, "repository_arn": self.repository_arn}
        )
