"""The one AWS provider every resource is created through: region, default tags, endpoint."""

import pulumi
import pulumi_aws as aws
from config import StackSettings

# Services the `local` stack uses; all are in LocalStack's community edition.
LOCAL_SERVICES = ("cloudwatch", "dynamodb", "iam", "kms", "logs", "sns", "sts")


def aws_provider(settings: StackSettings) -> aws.Provider:
    """A provider whose default tags (Project, Environment, ManagedBy) reach every resource."""
    default_tags = aws.ProviderDefaultTagsArgs(tags=settings.tags)
    if not settings.aws_endpoint:
        # Credentials for any other account make every operation fail before it changes anything.
        return aws.Provider(
            "aws",
            region=settings.region,
            default_tags=default_tags,
            allowed_account_ids=[settings.account_id],
        )
    endpoint = settings.aws_endpoint
    return aws.Provider(
        "aws",
        region=settings.region,
        default_tags=default_tags,
        # LocalStack accepts any credentials and has no account or metadata API to ask.
        access_key="test",
        secret_key=pulumi.Output.secret("test"),
        skip_credentials_validation=True,
        skip_requesting_account_id=True,
        skip_metadata_api_check=True,
        s3_use_path_style=True,
        endpoints=[aws.ProviderEndpointArgs(**dict.fromkeys(LOCAL_SERVICES, endpoint))],
    )
