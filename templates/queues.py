"""The processing queue, its dead-letter queue, and the audit stream's failure queue; TLS-only policies."""

from __future__ import annotations

from dataclasses import dataclass

import awacs.sqs as sqs
from awacs.aws import PolicyDocument
from troposphere import GetAtt, Template
from troposphere import sqs as tsqs

from .common import deny_without_tls
from .keys import Keys
from .settings import Settings

DAY = 86400
# Every queue-level action: the TLS rule names them rather than using a wildcard.
QUEUE_ACTIONS = [
    sqs.AddPermission, sqs.CancelMessageMoveTask, sqs.ChangeMessageVisibility, sqs.DeleteMessage,
    sqs.DeleteQueue, sqs.GetQueueAttributes, sqs.GetQueueUrl, sqs.ListDeadLetterSourceQueues,
    sqs.ListMessageMoveTasks, sqs.ListQueueTags, sqs.PurgeQueue, sqs.ReceiveMessage, sqs.RemovePermission,
    sqs.SendMessage, sqs.SetQueueAttributes, sqs.StartMessageMoveTask, sqs.TagQueue, sqs.UntagQueue,
]


@dataclass(frozen=True)
class Queues:
    processing: tsqs.Queue
    dead_letter: tsqs.Queue
    audit_failures: tsqs.Queue


def add_queues(t: Template, s: Settings, keys: Keys) -> Queues:
    dead_letter = t.add_resource(_queue("DeadLetterQueue", s.name("dlq"), keys,
                                        MessageRetentionPeriod=s.dlq_retention_days * DAY))
    processing = t.add_resource(_queue(
        "ProcessingQueue", s.name("processing"), keys,
        MessageRetentionPeriod=s.processing_retention_days * DAY,
        VisibilityTimeout=s.queue_visibility_timeout,
        RedrivePolicy=tsqs.RedrivePolicy(deadLetterTargetArn=GetAtt(dead_letter, "Arn"),
                                         maxReceiveCount=s.max_receive_count),
    ))
    # Stream batches the audit function gave up on: metadata for a replay, never webhook keys, so they
    # must not share the webhook DLQ (a redrive would feed them to the processor as poison).
    audit_failures = t.add_resource(_queue("AuditFailureQueue", s.name("audit-failures"), keys,
                                           MessageRetentionPeriod=14 * DAY))
    for queue in (processing, dead_letter, audit_failures):
        t.add_resource(tsqs.QueuePolicy(
            f"{queue.title}Policy", Queues=[queue.ref()],
            PolicyDocument=PolicyDocument(Version="2012-10-17",
                                          Statement=[deny_without_tls(QUEUE_ACTIONS, [GetAtt(queue, "Arn")])]),
        ))
    return Queues(processing, dead_letter, audit_failures)


def _queue(logical_id: str, name: str, keys: Keys, **props: object) -> tsqs.Queue:
    return tsqs.Queue(logical_id, QueueName=name, KmsMasterKeyId=keys.key.ref(),
                      KmsDataKeyReusePeriodSeconds=300, DeletionPolicy="Delete",
                      UpdateReplacePolicy="Delete", **props)
