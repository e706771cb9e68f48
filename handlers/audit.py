"""The audit Lambda: one redacted JSON log line per DynamoDB stream record of the webhook table.

Each line names the change (eventName, key, provider, status old → new, changed attributes, sequence
number, approximate creation time) and carries the item's other attributes (a MODIFY only those that
changed) deserialised with boto3's
TypeDeserializer, written through the one redacting logger (`webhook_common.logs.write`): the `payload`
attribute and card-secret keys are dropped, and every card-number-like digit run is masked to first 6 /
last 4. Only AWS's own metadata (event name, sequence number, creation time) is logged unredacted.

Failure handling follows Lambda's stream checkpointing: records are logged in order and the first record
that cannot be audited is reported as the batch's only failure (`batchItemFailures` = its sequence
number). Lambda retries from there, so records after it are not logged now and not logged twice later.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypedDict

from boto3.dynamodb.types import TypeDeserializer
from webhook_common import logs

DESERIALIZER = TypeDeserializer()
# Logged as their own fields (status) or never (payload); the rest go under "attributes".
NOT_ATTRIBUTES = ("payload", "status", "webhookId", "timestamp", "provider")


class ItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


def handler(event: dict, context: Any) -> BatchResponse:
    with logs.bound(**logs.invocation(context)):
        return audit_batch(event.get("Records") or [])


def audit_batch(records: list[dict], emit: Callable[[str], None] | None = None) -> BatchResponse:
    write = emit or _stdout
    for record in records:
        try:
            line = logs.format_line(audit_line(record), trusted=AWS_METADATA)
        except Exception as error:  # noqa: BLE001 - checkpoint at the first record we cannot audit
            sequence = (record.get("dynamodb") or {}).get("SequenceNumber")
            logs.log("ERROR", "audit record failed", sequenceNumber=sequence, errorType=type(error).__name__)
            if not isinstance(sequence, str):
                raise  # nothing to checkpoint on: fail the batch (bisect / on-failure destination take over)
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        write(line)
    return {"batchItemFailures": []}


AWS_METADATA = ("eventName", "sequenceNumber", "approximateCreationTime")


def audit_line(record: dict) -> dict[str, Any]:
    stream = record["dynamodb"]
    keys = _image(stream.get("Keys"))
    old, new = _image(stream.get("OldImage")), _image(stream.get("NewImage"))
    current = new or old
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    # An INSERT or REMOVE line carries the whole item; a MODIFY line only what changed (with the INSERT before
    # it, the trail still rebuilds every version), which halves the audit log's bytes per webhook.
    shown = current.keys() if not (old and new) else changed
    return {
        **logs.current(),
        "level": "INFO",
        "message": "audit",
        "eventName": record.get("eventName"),
        "webhookId": keys.get("webhookId", current.get("webhookId")),
        "timestamp": keys.get("timestamp", current.get("timestamp")),
        "provider": current.get("provider"),
        "oldStatus": old.get("status"),
        "newStatus": new.get("status"),
        "changed": changed,
        "sequenceNumber": stream["SequenceNumber"],
        "approximateCreationTime": _time(stream.get("ApproximateCreationDateTime")),
        "attributes": {k: current[k] for k in shown if k in current and k not in NOT_ATTRIBUTES},
    }


def _image(image: Any) -> dict[str, Any]:
    if image is None:
        return {}
    if not isinstance(image, dict):
        raise ValueError("stream image is not a map of attribute values")
    return DESERIALIZER.deserialize({"M": image})


def _time(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
