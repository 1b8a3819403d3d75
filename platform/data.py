"""Data: the DynamoDB table and the customer-managed KMS key that encrypts it."""

import pulumi
import pulumi_aws as aws
from config import DataSettings

from hello_birthday.store.schema import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA


def _hash_key() -> str:
    return next(key["AttributeName"] for key in KEY_SCHEMA if key["KeyType"] == "HASH")


class Data(pulumi.ComponentResource):
    """On-demand table with point-in-time recovery, encrypted with a rotating customer key."""

    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, settings: DataSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Data", name, None, opts)
        # Losing the table or its key loses every stored birthday: where the environment says so,
        # neither AWS nor Pulumi may delete them.
        keep = pulumi.ResourceOptions(
            parent=self, protect=settings.protect, retain_on_delete=settings.protect
        )
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {settings.table_name} DynamoDB table",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=keep,
        )
        aws.kms.Alias(
            f"{name}-key",
            name=f"alias/{settings.table_name}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        table = aws.dynamodb.Table(
            f"{name}-table",
            name=settings.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=_hash_key(),
            attributes=[
                aws.dynamodb.TableAttributeArgs(
                    name=attribute["AttributeName"], type=attribute["AttributeType"]
                )
                for attribute in ATTRIBUTE_DEFINITIONS
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=key.arn
            ),
            deletion_protection_enabled=settings.protect,
            opts=keep,
        )

        self.table_name = table.name
        self.table_arn = table.arn
        self.key_arn = key.arn
        self.register_outputs(
            {"table_name": self.table_name, "table_arn": self.table_arn, "key_arn": self.key_arn}
        )
