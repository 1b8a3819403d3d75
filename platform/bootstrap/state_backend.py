"""A self-managed Pulumi backend: the S3 bucket that holds the stacks' state, and its KMS key.

The key encrypts the bucket's objects and is also the stacks' secrets provider
(`awskms://alias/hello-birthday-state`). Losing either loses every stack's record of what it
owns, so neither Pulumi nor AWS may delete them: both are protected and retained on delete.
"""

import json

import pulumi
import pulumi_aws as aws
from account import WORKLOAD_PROJECT, AccountSettings

KEY_ALIAS = f"alias/{WORKLOAD_PROJECT}-state"


def bucket_name(settings: AccountSettings) -> str:
    """Bucket names are global: the account id makes this one the account's own."""
    return f"{WORKLOAD_PROJECT}-state-{settings.account_id}"


def tls_only_policy(bucket: str) -> str:
    arn = f"arn:aws:s3:::{bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class StateBackend(pulumi.ComponentResource):
    """Versioned (every earlier state can be restored), encrypted with its own rotating key,
    never public, reachable over TLS only."""

    bucket: str
    key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, settings: AccountSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:bootstrap:StateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        self.bucket = bucket_name(settings)
        key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the Pulumi state bucket and the stacks' secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=keep,
        )
        aws.kms.Alias(f"{name}-key", name=KEY_ALIAS, target_key_id=key.key_id, opts=child)
        bucket = aws.s3.Bucket(f"{name}-bucket", bucket=self.bucket, opts=keep)
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    # One data key per bucket rather than per object: far fewer KMS calls.
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only", bucket=bucket.id, policy=tls_only_policy(self.bucket), opts=child
        )
        self.key_arn = key.arn
        self.register_outputs({"bucket": self.bucket, "key_arn": self.key_arn})
