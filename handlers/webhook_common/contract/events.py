"""The payment event, version 1: what the processor publishes to the stack's EventBridge bus.

One event per processed webhook. `Source` is `webhookctl.<provider>`, `DetailType` the category, and
`Detail` the canonical record below: never the raw payload, never a card number. Consumers deduplicate on
`webhookId` (delivery is at least once: a crash between publishing and recording it republishes the
same id) and may order a payment's events by `occurredAt`; an event older than one already published for
the same payment carries `stale: true`. `replay: true` marks a re-publication by `webhookctl events
replay`. The JSON Schema beside this module (payment_event.schema.json) is the same contract for readers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

VERSION = 1
SOURCE_PREFIX = "webhookctl."
CATEGORIES = ("payment_succeeded", "payment_failed", "refund", "dispute", "other")
FIELDS = ("version", "webhookId", "provider", "providerEventId", "eventType", "category", "amount", "currency",
          "paymentId", "occurredAt", "receivedAt", "stale", "replay")
# PutEvents: at most 10 entries per call, and (User Guide) 256 KB in all, counted as below.
MAX_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
SCHEMA_FILE = "payment_event.schema.json"


def source(provider: str) -> str:
    return SOURCE_PREFIX + provider


def detail(*, webhook_id: str, provider: str, provider_event_id: str, event_type: str, category: str,
           amount: int | None, currency: str | None, payment_id: str | None, occurred_at: str | None,
           received_at: str, stale: bool, replay: bool = False) -> dict[str, Any]:
    return {"version": VERSION, "webhookId": webhook_id, "provider": provider, "providerEventId": provider_event_id,
            "eventType": event_type, "category": category, "amount": amount, "currency": currency,
            "paymentId": payment_id, "occurredAt": occurred_at, "receivedAt": received_at, "stale": stale,
            "replay": replay}


def entry(bus_name: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The PutEvents entry for one payment event."""
    return {"EventBusName": bus_name, "Source": source(event["provider"]), "DetailType": event["category"],
            "Detail": json.dumps(event, separators=(",", ":"), ensure_ascii=False)}


def entry_size(item: Mapping[str, Any]) -> int:
    """An entry's size as EventBridge counts it: Time is 14 bytes, text fields their UTF-8 bytes."""
    text = (item.get("Source", ""), item.get("DetailType", ""), item.get("Detail", ""), *item.get("Resources", []))
    return 14 + sum(len(part.encode()) for part in text)


def batches(entries: list[dict[str, Any]]) -> list[list[int]]:
    """Indexes of `entries` grouped into PutEvents calls within the count and size limits."""
    groups: list[list[int]] = []
    size = 0
    for index, item in enumerate(entries):
        item_size = entry_size(item)
        if not groups or len(groups[-1]) == MAX_ENTRIES or size + item_size > MAX_BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(index)
        size += item_size
    return groups
