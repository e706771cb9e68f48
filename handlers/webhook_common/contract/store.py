"""The webhook table beyond one event's item: its two indexes and the per-payment ordering record.

- `ByProviderTime` lists a provider's events in a time range without scanning. Its partition key is
  `{provider}#{day}#{shard}`: one day of one provider spread over SHARDS partitions by the webhook id's
  hash, so a provider sending 1000 events/s writes about 1000/SHARDS per partition (a DynamoDB partition
  takes 1000 writes/s). A reader merges the shards of each day, newest first.
- `Pending` is sparse: only items still RECEIVED (stored, not known to be on the queue) carry its key, so
  the sweeper and `webhookctl requeue` read just those, never the table.
- The ordering record of a payment lives in the same table under its own key prefix (`payment#...`, a
  prefix no provider name can take) rather than in a second table: one key, one stream, one backup, one
  grant. It holds the latest (occurredAt, webhookId) seen for the payment and the ids of its events.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

TIME_INDEX = "ByProviderTime"
LIST_KEY = "listKey"
LIST_SORT = "listSort"
SHARDS = 8
PENDING_INDEX = "Pending"
PENDING_KEY = "pendingKey"
PENDING_SHARDS = 4
# What the time index carries besides its keys: what `events list` shows, never the payload.
LISTED = ("webhookId", "provider", "eventType", "category", "amount", "currency", "status", "paymentId",
          "receivedAt", "occurredAt", "publishedAt", "stale")

PAYMENT_PREFIX = "payment#"
PAYMENT_TIMESTAMP = "latest"
LATEST_OCCURRED_AT = "latestOccurredAt"
LATEST_WEBHOOK_ID = "latestWebhookId"
PAYMENT_EVENTS = "webhookIds"


def _shard(webhook_id: str, shards: int) -> int:
    return int.from_bytes(hashlib.sha256(webhook_id.encode()).digest()[:4], "big") % shards


def day_of(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def list_key(provider: str, received_seconds: float, webhook_id: str) -> str:
    return f"{provider}#{day_of(received_seconds)}#{_shard(webhook_id, SHARDS)}"


def list_sort(received_at: str, webhook_id: str) -> str:
    """receivedAt first (ISO text sorts as time), the id to make it unique."""
    return f"{received_at}#{webhook_id}"


def list_keys(provider: str, day: str) -> list[str]:
    return [f"{provider}#{day}#{shard}" for shard in range(SHARDS)]


def days(since: float, until: float) -> list[str]:
    """The UTC days a time range touches, newest first."""
    first = datetime.fromtimestamp(since, UTC).date()
    last = datetime.fromtimestamp(until, UTC).date()
    return [(last - timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def pending_key(webhook_id: str) -> str:
    return f"pending#{_shard(webhook_id, PENDING_SHARDS)}"


def pending_keys() -> list[str]:
    return [f"pending#{shard}" for shard in range(PENDING_SHARDS)]


def payment_key(provider: str, payment_id: str) -> dict[str, dict[str, str]]:
    return {"webhookId": {"S": f"{PAYMENT_PREFIX}{provider}#{payment_id}"}, "timestamp": {"S": PAYMENT_TIMESTAMP}}
