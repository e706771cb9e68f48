"""Events stored but never enqueued, found and enqueued: the sweeper's work, and `webhookctl requeue`'s.

The receiver acknowledges an event only once its key is on the processing queue; when AWS fails in between,
the item stays RECEIVED and the provider's retry finishes the job. Providers that do not retry (GitHub) or
that gave up leave it there. Such items are the only ones carrying the sparse `Pending` index's key, so
they are found without reading the table. A copy enqueued twice is harmless: the processor's conditional
write lets one win. Stdlib only; the clients are passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import contract
from .contract import store


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


def stuck_events(dynamodb: Any, table: str, stored_before_ms: int) -> Iterator[StuckEvent]:
    """Items still RECEIVED that were stored before the cutoff, oldest first in each index shard."""
    cutoff = contract.item_time(stored_before_ms / 1000)
    for shard in store.pending_keys():
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table, IndexName=store.PENDING_INDEX,
            KeyConditionExpression="#p = :shard AND receivedAt < :cutoff",
            ExpressionAttributeNames={"#p": store.PENDING_KEY},
            ExpressionAttributeValues={":shard": {"S": shard}, ":cutoff": {"S": cutoff}})
        for page in pages:
            for item in page.get("Items", []):
                yield StuckEvent(*(item.get(k, {}).get("S", "") for k in
                                   ("webhookId", "timestamp", "provider", "eventType", "receivedAt")))


def oldest_pending(dynamodb: Any, table: str) -> str | None:
    """receivedAt of the oldest event still RECEIVED, or None: one item read per index shard."""
    oldest = None
    for shard in store.pending_keys():
        items = dynamodb.query(TableName=table, IndexName=store.PENDING_INDEX, Limit=1,
                               KeyConditionExpression="#p = :shard", ExpressionAttributeNames={"#p": store.PENDING_KEY},
                               ExpressionAttributeValues={":shard": {"S": shard}}).get("Items", [])
        received = items[0].get("receivedAt", {}).get("S") if items else None
        oldest = received if received and (oldest is None or received < oldest) else oldest
    return oldest


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
    try:
        dynamodb.update_item(
            TableName=table, Key={"webhookId": {"S": event.webhook_id}, "timestamp": {"S": event.timestamp}},
            UpdateExpression=f"SET #status = :enqueued REMOVE {store.PENDING_KEY}",
            ConditionExpression="#status = :received", ExpressionAttributeNames={"#status": contract.STATUS},
            ExpressionAttributeValues={":enqueued": {"S": contract.ENQUEUED}, ":received": {"S": contract.RECEIVED}})
    except Exception as exc:  # noqa: BLE001 - already processed: the message just sent will be skipped
        if _code(exc) != "ConditionalCheckFailedException":
            raise


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
