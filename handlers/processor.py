"""The processor Lambda: SQS batches of item keys → canonical records, exactly one writer per event.

Per record: read the item (consistent read); PROCESSED or IGNORED already → done. Otherwise normalise
the provider's payload and write the canonical fields with `status = PROCESSED` (or `IGNORED` for event
types we do not map) under the condition `status IN (RECEIVED, ENQUEUED)`: of any number of copies of the
message (redelivery, the receiver's re-enqueue, SQS at-least-once), exactly one write succeeds and the others
see the condition fail and stop. A record whose body breaks the queue contract, whose item is missing or
whose payload is malformed fails alone: it is named in `batchItemFailures`, SQS redelivers it, and after
3 receives the queue's redrive policy moves it to the DLQ.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any, TypedDict

from botocore.exceptions import ClientError
from webhook_common import contract, logs, runtime
from webhook_common.normalise import OTHER, Canonical
from webhook_common.providers import PROVIDERS


class ItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


class RecordFailed(Exception):
    """This record cannot be processed now; SQS will redeliver it (and dead-letter it after 3 receives)."""


def handler(event: dict, context: Any) -> BatchResponse:
    return process_batch(event.get("Records") or [], runtime.dynamodb(), runtime.processor_config().table_name)


def process_batch(
    records: list[dict], dynamodb: Any, table: str, clock: Callable[[], float] = time.time
) -> BatchResponse:
    failures: list[ItemFailure] = []
    for record in records:
        try:
            outcome = process_record(record, dynamodb, table, clock)
        except Exception as error:  # noqa: BLE001 - one bad record must not fail or hide the others
            failures.append({"itemIdentifier": record["messageId"]})
            logs.log(
                "WARNING",
                "record failed",
                messageId=record["messageId"],
                webhookId=_webhook_of(record),
                receiveCount=record.get("attributes", {}).get("ApproximateReceiveCount", ""),
                errorType=type(error).__name__,
                error=str(error) if isinstance(error, RecordFailed) else "",
            )
        else:
            logs.log("INFO", "record done", messageId=record["messageId"], **outcome)
    return {"batchItemFailures": failures}


def _webhook_of(record: dict) -> str:
    """The failing record's webhookId for the log (so `logs --filter` finds it), when its body has one."""
    try:
        return contract.item_key(record.get("body", ""))["webhookId"]["S"]
    except (ValueError, TypeError, RecursionError):
        return ""


def process_record(record: dict, dynamodb: Any, table: str, clock: Callable[[], float]) -> dict[str, str]:
    try:
        key = contract.item_key(record["body"])
    except ValueError as error:
        raise RecordFailed(f"message body breaks the queue contract: {error}") from None
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    if item is None:
        raise RecordFailed("no stored item for this key")
    webhook = key["webhookId"]["S"]
    status = _string(item, "status")
    if status in contract.FINAL:
        return {"webhookId": webhook, "outcome": "already " + status}
    canonical = normalise(item)
    if canonical is not None and canonical.occurred_at is None:  # the event carries no time of its own
        canonical = dataclasses.replace(canonical, occurred_at=_string(item, "receivedAt"))
    new_status = contract.IGNORED if canonical is None else contract.PROCESSED
    if not write_result(dynamodb, table, key, canonical, contract.item_time(clock())):
        return {"webhookId": webhook, "outcome": "finished by another copy"}
    return {"webhookId": webhook, "outcome": new_status}


def normalise(item: dict) -> Canonical | None:
    provider = PROVIDERS.get(_string(item, "provider"))
    if provider is None:
        raise RecordFailed("item names no known provider")
    try:
        payload = json.loads(_string(item, "payload"))
    except (TypeError, ValueError, RecursionError):
        raise RecordFailed("stored payload is not JSON") from None
    try:
        return provider.normalise(payload, _string(item, "eventType") or contract.UNKNOWN_EVENT_TYPE)
    except ValueError as error:  # MalformedEvent
        raise RecordFailed(f"malformed {provider.name} event: {error}") from None


def write_result(dynamodb: Any, table: str, key: dict, canonical: Canonical | None, now: str) -> bool:
    """The single conditional write; False when another copy already won."""
    status = contract.IGNORED if canonical is None else contract.PROCESSED
    fields = canonical_fields(canonical)
    values = {
        ":status": {"S": status},
        ":now": {"S": now},
        ":received": {"S": contract.RECEIVED},
        ":enqueued": {"S": contract.ENQUEUED},
        **{f":{k}": v for k, v in fields.items()},
    }
    assignments = ", ".join(["#s = :status", "processedAt = :now", *(f"{k} = :{k}" for k in fields)])
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression=f"SET {assignments}",
            ConditionExpression="#s IN (:received, :enqueued)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def canonical_fields(canonical: Canonical | None) -> dict[str, dict[str, str]]:
    if canonical is None:
        return {"category": {"S": OTHER}}
    fields = {"category": {"S": canonical.category}}
    if canonical.amount is not None:
        fields["amount"] = {"N": str(canonical.amount)}
    for name, value in (
        ("currency", canonical.currency),
        ("paymentId", canonical.payment_id),
        ("occurredAt", canonical.occurred_at),
    ):
        if value is not None:
            fields[name] = {"S": value}
    return fields


def _string(item: dict, name: str) -> str | None:
    return (item.get(name) or {}).get("S")


