"""Where webhooks and signing secrets live: the DynamoDB table (with its stream) and the secret."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Template
from troposphere import dynamodb as ddb
from troposphere import secretsmanager as sm

from webhookctl.handlers.webhook_common import contract
from webhookctl.handlers.webhook_common.contract import names

from .keys import Keys
from .settings import Settings


@dataclass(frozen=True)
class Storage:
    table: ddb.Table
    secret: sm.Secret


def add_storage(t: Template, s: Settings, keys: Keys) -> Storage:
    table = t.add_resource(ddb.Table(
        "WebhookTable",
        TableName=names.table_name(s.suffix),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[ddb.AttributeDefinition(AttributeName="webhookId", AttributeType="S"),
                              ddb.AttributeDefinition(AttributeName="timestamp", AttributeType="S")],
        KeySchema=[ddb.KeySchema(AttributeName="webhookId", KeyType="HASH"),
                   ddb.KeySchema(AttributeName="timestamp", KeyType="RANGE")],
        StreamSpecification=ddb.StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
        SSESpecification=ddb.SSESpecification(SSEEnabled=True, SSEType="KMS",
                                              KMSMasterKeyId=keys.key.ref()),
        PointInTimeRecoverySpecification=ddb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True),
        TimeToLiveSpecification=ddb.TimeToLiveSpecification(AttributeName=contract.TTL_ATTRIBUTE, Enabled=True),
        DeletionProtectionEnabled=False,
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
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
