"""The contract: every fact the template, the handlers, the CLI and the sandbox share, stdlib only.

This module holds what the three functions agree on: the stored item (key, statuses, attribute names) and
the processing-queue message. Its submodules hold the rest: `names` (physical names from the suffix),
`stack` (parameters and outputs with their roles), `environment` (each function's variables with types,
defaults and bounds) and `secrets` (the signing-secrets document's one parser and one writer).

Queue message contract (also read by `webhookctl dlq peek/redrive`): the body is JSON
`{"webhookId": ..., "timestamp": ...}` (the item key only, never the payload); MessageAttributes
`provider` and `eventType` are Strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# The version of this contract: what a deployed stack's functions, outputs and items follow.
VERSION = 2

RECEIVED = "RECEIVED"  # stored, not yet known to be on the queue: a redelivery re-enqueues it
ENQUEUED = "ENQUEUED"  # its key is on the processing queue
PROCESSED = "PROCESSED"  # normalised; final
IGNORED = "IGNORED"  # an event type we do not map; final
PENDING = (RECEIVED, ENQUEUED)
FINAL = (PROCESSED, IGNORED)

# The table's sort key. It must be a function of the event alone, or a redelivery would be a new item:
# one fixed value makes `attribute_not_exists(webhookId)` a per-event uniqueness check.
ITEM_TIMESTAMP = "event"
MAX_EVENT_ID_LENGTH = 256
MAX_EVENT_TYPE_LENGTH = 256
UNKNOWN_EVENT_TYPE = "unknown"
# A payload-free record that an event was seen, kept longer than the event itself, for providers that sign
# no time (a replay after the event expired is told apart by it): same webhookId, this sort key.
TOMBSTONE_TIMESTAMP = "tombstone"
# Item attributes more than one part reads or writes.
STATUS = "status"
PAYLOAD = "payload"  # the provider's JSON, card numbers masked before it is written
BODY_DIGEST = "bodyDigest"  # sha256 of the signed bytes the event came in
RECEIVED_AT = "receivedAt"
SOURCE = "source"  # how an event came in when not by its provider's delivery (e.g. "reconcile"); absent otherwise
TTL_ATTRIBUTE = "expiresAt"  # epoch seconds; DynamoDB's TTL deletes the item some time after it


def item_time(seconds: float) -> str:
    """receivedAt / processedAt: ISO 8601 UTC with milliseconds and a Z, so text order is time order."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def item_seconds(text: str) -> float:
    """The epoch seconds an item time names (item_time's inverse); ValueError if TEXT is not one."""
    return datetime.fromisoformat(text).timestamp()


def webhook_id(provider: str, event_id: Any) -> str | None:
    """`{provider}#{eventId}`, or None when the provider's event id is missing or unusable."""
    if isinstance(event_id, bool) or not isinstance(event_id, str | int):
        return None
    text = str(event_id)
    if not text or len(text) > MAX_EVENT_ID_LENGTH or not text.isprintable():
        return None
    return f"{provider}#{text}"


def event_type_text(value: Any) -> str:
    """A non-empty bounded string (SQS rejects empty attribute values)."""
    text = value if isinstance(value, str) else ""
    return text[:MAX_EVENT_TYPE_LENGTH] if text and text.isprintable() else UNKNOWN_EVENT_TYPE


def queue_message(webhook: str, timestamp: str, provider: str, event_type: str,
                  trace: str | None = None) -> dict[str, Any]:
    """The SendMessage arguments (minus QueueUrl) for one stored event; `trace` is the X-Ray trace header,
    which SQS hands the processor as the record's AWSTraceHeader."""
    message: dict[str, Any] = {
        "MessageBody": json.dumps({"webhookId": webhook, "timestamp": timestamp}, separators=(",", ":")),
        "MessageAttributes": {
            "provider": {"DataType": "String", "StringValue": provider},
            "eventType": {"DataType": "String", "StringValue": event_type},
        },
    }
    if trace:
        message["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    return message


def item_key(body: str) -> dict[str, dict[str, str]]:
    """The DynamoDB key named by a queue message body; ValueError when the body breaks the contract."""
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("queue message body is not a JSON object")
    webhook, timestamp = message.get("webhookId"), message.get("timestamp")
    if not (isinstance(webhook, str) and webhook and isinstance(timestamp, str) and timestamp):
        raise ValueError("queue message body lacks webhookId/timestamp strings")
    return {"webhookId": {"S": webhook}, "timestamp": {"S": timestamp}}


# The receiver's acknowledgement, in headers whatever body the provider expects ("[accepted]" for Adyen):
# what `webhookctl send` and the sandbox's console read.
ACCEPTED_IDS_HEADER = "X-Webhookctl-Ids"
DUPLICATE_HEADER = "X-Webhookctl-Duplicate"


def acknowledgement(ids: list[str], duplicate: bool) -> dict[str, str]:
    return {ACCEPTED_IDS_HEADER: ",".join(ids), DUPLICATE_HEADER: "true" if duplicate else "false"}


def acknowledged(headers: Mapping[str, str]) -> tuple[list[str], bool] | None:
    """(webhook ids, all of them duplicates) from a receiver's 200, or None when it acknowledged nothing."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ids = lowered.get(ACCEPTED_IDS_HEADER.lower())
    if not ids:
        return None
    return ids.split(","), lowered.get(DUPLICATE_HEADER.lower()) == "true"
