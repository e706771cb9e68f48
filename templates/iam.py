"""One least-privilege role per function, written with awacs and scoped to the ARNs each one touches."""

from __future__ import annotations

import awacs.dynamodb as ddb
import awacs.events as events
import awacs.kms as kms
import awacs.logs as logs
import awacs.secretsmanager as sm
import awacs.sqs as sqs
import awacs.xray as xray
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import GetAtt, Sub, Template
from troposphere import iam as tiam
from troposphere import logs as tlogs

from .bus import Bus
from .common import service
from .keys import Keys
from .queues import Queues
from .storage import Storage


def add_role(t: Template, logical_id: str, role_name: str, statements: list[Statement]) -> tiam.Role:
    return t.add_resource(tiam.Role(
        logical_id,
        RoleName=role_name,
        AssumeRolePolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[Statement(
            Effect=Allow, Principal=Principal("Service", "lambda.amazonaws.com"), Action=[AssumeRole])]),
        Policies=[tiam.Policy(PolicyName="least-privilege",
                              PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements))],
    ))


def runtime_statements(log_group: tlogs.LogGroup) -> list[Statement]:
    """What every function needs: its own log group, and X-Ray."""
    return [
        Statement(Sid="WriteOwnLogs", Effect=Allow, Action=[logs.CreateLogStream, logs.PutLogEvents],
                  Resource=[GetAtt(log_group, "Arn")]),
        # X-Ray's segment APIs have no resource-level permissions: AWS requires "*".
        Statement(Sid="SendTraces", Effect=Allow, Action=[xray.PutTraceSegments, xray.PutTelemetryRecords],
                  Resource=["*"]),
    ]


def use_key(keys: Keys, actions: list, via: tuple[str, ...]) -> Statement:
    """The key, only through the services that store this function's data."""
    return Statement(Sid="UseKeyThroughServices", Effect=Allow, Action=actions,
                     Resource=[GetAtt(keys.key, "Arn")],
                     Condition=Condition(StringEquals("kms:ViaService", [service(v) for v in via])))


def receiver_statements(storage: Storage, queues: Queues, keys: Keys, bus: Bus) -> list[Statement]:
    return [
        Statement(Sid="StoreWebhooks", Effect=Allow,
                  Action=[ddb.GetItem, ddb.PutItem, ddb.Query, ddb.UpdateItem],
                  Resource=[GetAtt(storage.table, "Arn")]),
        Statement(Sid="EnqueueWebhooks", Effect=Allow, Action=[sqs.SendMessage],
                  Resource=[GetAtt(queues.processing, "Arn")]),
        Statement(Sid="ReadSigningSecrets", Effect=Allow, Action=[sm.GetSecretValue],
                  Resource=[storage.secret.ref()]),
        use_key(keys, [kms.Decrypt, kms.GenerateDataKey], ("dynamodb", "sqs", "secretsmanager")),
    ]


def processor_statements(storage: Storage, queues: Queues, keys: Keys, bus: Bus) -> list[Statement]:
    return [
        Statement(Sid="ConsumeProcessingQueue", Effect=Allow,
                  Action=[sqs.ReceiveMessage, sqs.DeleteMessage, sqs.ChangeMessageVisibility,
                          sqs.GetQueueAttributes],
                  Resource=[GetAtt(queues.processing, "Arn")]),
        Statement(Sid="ProcessWebhooks", Effect=Allow, Action=[ddb.GetItem, ddb.UpdateItem],
                  Resource=[GetAtt(storage.table, "Arn")]),
        Statement(Sid="PublishPaymentEvents", Effect=Allow, Action=[events.PutEvents],
                  Resource=[GetAtt(bus.bus, "Arn")]),
        use_key(keys, [kms.Decrypt, kms.GenerateDataKey], ("dynamodb", "sqs")),
    ]


def sweeper_statements(storage: Storage, queues: Queues, keys: Keys, bus: Bus) -> list[Statement]:
    return [
        Statement(Sid="FindPendingWebhooks", Effect=Allow, Action=[ddb.Query],
                  Resource=[Sub("${Table}/index/*", Table=GetAtt(storage.table, "Arn"))]),
        Statement(Sid="MarkWebhooksEnqueued", Effect=Allow, Action=[ddb.UpdateItem],
                  Resource=[GetAtt(storage.table, "Arn")]),
        Statement(Sid="EnqueueWebhooks", Effect=Allow, Action=[sqs.SendMessage],
                  Resource=[GetAtt(queues.processing, "Arn")]),
        use_key(keys, [kms.Decrypt, kms.GenerateDataKey], ("dynamodb", "sqs")),
    ]


def audit_statements(storage: Storage, queues: Queues, keys: Keys, bus: Bus) -> list[Statement]:
    return [
        Statement(Sid="ReadTableStream", Effect=Allow,
                  Action=[ddb.DescribeStream, ddb.GetRecords, ddb.GetShardIterator],
                  Resource=[GetAtt(storage.table, "StreamArn")]),
        # Lambda's DynamoDB event source mapping calls ListStreams with the function's role, and ListStreams
        # has no resource-level permissions: "*" is the only resource it accepts (a stream ARN grants nothing).
        Statement(Sid="ListStreams", Effect=Allow, Action=[ddb.ListStreams], Resource=["*"]),
        Statement(Sid="RecordFailedBatches", Effect=Allow, Action=[sqs.SendMessage],
                  Resource=[GetAtt(queues.audit_failures, "Arn")]),
        use_key(keys, [kms.Decrypt, kms.GenerateDataKey], ("dynamodb", "sqs")),
    ]
