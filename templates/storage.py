"""Where webhooks and signing secrets live: the DynamoDB table (with its stream) and the secret."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Template
from troposphere import dynamodb as ddb
from troposphere import secretsmanager as sm

from webhookctl.handlers.webhook_common import contract
from webhookctl.handlers.webhook_common.contract import names, store

from .common import keep_on_delete
from .keys import Keys
from .settings import Settings


def _keys(partition: str, sort: str) -> list[ddb.KeySchema]:
    return [ddb.KeySchema(AttributeName=partition, KeyType="HASH"), ddb.KeySchema(AttributeName=sort, KeyType="RANGE")]


def _indexes() -> list[ddb.GlobalSecondaryIndex]:
    """contract.store's two indexes: a provider's events by time (what `events list` shows), and the sparse
    set of events still RECEIVED (what the sweeper and `requeue` read)."""
    listed = [name for name in store.LISTED if name not in ("webhookId", contract.RECEIVED_AT)]
    return [
        ddb.GlobalSecondaryIndex(IndexName=store.TIME_INDEX, KeySchema=_keys(store.LIST_KEY, store.LIST_SORT),
                                 Projection=ddb.Projection(ProjectionType="INCLUDE",
                                                           NonKeyAttributes=[*listed, contract.RECEIVED_AT])),
        ddb.GlobalSecondaryIndex(IndexName=store.PENDING_INDEX,
                                 KeySchema=_keys(store.PENDING_KEY, contract.RECEIVED_AT),
                                 Projection=ddb.Projection(ProjectionType="INCLUDE",
                                                           NonKeyAttributes=["provider", "eventType"])),
    ]


@dataclass(frozen=True)
class Storage:
    table: ddb.Table
    secret: sm.Secret


def add_storage(t: Template, s: Settings, keys: Keys) -> Storage:
    table = t.add_resource(ddb.Table(
        "WebhookTable",
        TableName=names.table_name(s.suffix),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[ddb.AttributeDefinition(AttributeName=name, AttributeType="S") for name in (
            "webhookId", "timestamp", store.LIST_KEY, store.LIST_SORT, store.PENDING_KEY, contract.RECEIVED_AT)],
        KeySchema=_keys("webhookId", "timestamp"),
        GlobalSecondaryIndexes=_indexes(),
        StreamSpecification=ddb.StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
        SSESpecification=ddb.SSESpecification(SSEEnabled=True, SSEType="KMS",
                                              KMSMasterKeyId=keys.key.ref()),
        PointInTimeRecoverySpecification=ddb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True),
        TimeToLiveSpecification=ddb.TimeToLiveSpecification(AttributeName=contract.TTL_ATTRIBUTE, Enabled=True),
        DeletionProtectionEnabled=False,
        **keep_on_delete(s.retain_data),
    ))
    secret = t.add_resource(sm.Secret(
        "SigningSecrets",
        Name=s.name("signing-secrets"),
        Description="Webhook signing secrets: JSON object, provider -> list of active secrets",
        KmsKeyId=keys.key.ref(),
        SecretString="{}",
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
    ))
    return Storage(table, secret)
