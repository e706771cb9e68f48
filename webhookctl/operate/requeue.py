"""Events stored but never enqueued: the receiver answered 500 between the two, and the provider gave up.

The receiver only acknowledges an event once its key is on the processing queue; when AWS fails in between,
the item stays RECEIVED and the provider's retry finishes the job. Providers that do not retry (GitHub) or
that gave up leave it there: this finds such items and enqueues their keys, as the receiver would have.
A copy enqueued twice is harmless: the processor's conditional write lets one win.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from webhookctl.handlers.webhook_common import contract


@dataclass(frozen=True)
class StuckEvent:
    webhook_id: str
    timestamp: str
    provider: str
    event_type: str
    received_at: str


@dataclass
class RequeueResult:
    found: list[StuckEvent] = field(default_factory=list)
    enqueued: int = 0
    failed: int = 0
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def requeue_stuck(sqs: Any, dynamodb: Any, stack: Any, stored_before_ms: int, *, dry_run: bool) -> RequeueResult:
    """Find the stack's stuck events and (unless dry_run) enqueue them."""
    from webhookctl.handlers.webhook_common.contract import stack as outputs

    table, queue_url = stack.require(outputs.TABLE_NAME), stack.require(outputs.PROCESSING_QUEUE_URL)
    events = list(stuck_events(dynamodb, table, stored_before_ms))
    if dry_run or not events:
        return RequeueResult(found=events, dry_run=dry_run)
    return requeue(sqs, dynamodb, table, queue_url, events)


def stuck_events(dynamodb: Any, table: str, stored_before_ms: int) -> Iterator[StuckEvent]:
    """Items still RECEIVED that were stored before the cutoff (a scan: the table keeps event_ttl_days)."""
    cutoff = contract.item_time(stored_before_ms / 1000)
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table, ConsistentRead=True,
        FilterExpression="#status = :received AND receivedAt < :cutoff",
        ProjectionExpression="webhookId, #ts, provider, eventType, receivedAt",
        ExpressionAttributeNames={"#status": "status", "#ts": "timestamp"},
        ExpressionAttributeValues={":received": {"S": contract.RECEIVED}, ":cutoff": {"S": cutoff}})
    for page in pages:
        for item in page.get("Items", []):
            yield StuckEvent(*(item.get(k, {}).get("S", "") for k in
                               ("webhookId", "timestamp", "provider", "eventType", "receivedAt")))


def requeue(sqs: Any, dynamodb: Any, table: str, queue_url: str, events: list[StuckEvent]) -> RequeueResult:
    """Send each key to the processing queue, then mark it ENQUEUED unless the processor got there first."""
    result = RequeueResult(found=list(events))
    for start in range(0, len(events), 10):
        batch = events[start:start + 10]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), **contract.queue_message(e.webhook_id, e.timestamp, e.provider,
                                                    contract.event_type_text(e.event_type))}
            for i, e in enumerate(batch)])
        result.failed += len(response.get("Failed", []))
        for sent in response.get("Successful", []):
            _mark_enqueued(dynamodb, table, batch[int(sent["Id"])])
            result.enqueued += 1
    return result


def _mark_enqueued(dynamodb: Any, table: str, event: StuckEvent) -> None:
    from botocore.exceptions import ClientError

    try:
        dynamodb.update_item(
            TableName=table, Key={"webhookId": {"S": event.webhook_id}, "timestamp": {"S": event.timestamp}},
            UpdateExpression="SET #status = :enqueued", ConditionExpression="#status = :received",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":enqueued": {"S": contract.ENQUEUED},
                                       ":received": {"S": contract.RECEIVED}})
    except ClientError as exc:  # already processed: the message we just sent will be skipped
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
