"""The processor Lambda: SQS batches of item keys → canonical records, published once, exactly one writer.

Per batch:
1. Prepare each record: read its item (consistent read); PROCESSED or IGNORED already → done. Otherwise
   normalise the (card-masked) payload and, for a payment event, record its (occurredAt, webhookId) on the
   payment's ordering record with a conditional write: an event older than one already seen is `stale`.
2. Publish: one PutEvents per SQS batch (contract.events: at most 10 entries, 256 KB), before any item
   becomes PROCESSED. An entry EventBridge refuses (FailedEntryCount, throttling) fails only its own record.
3. Mark: write the canonical fields, `stale`, `publishedAt` and `status = PROCESSED` (IGNORED for types we
   do not map) under the condition `status IN (RECEIVED, ENQUEUED)`: of any number of copies of the message
   exactly one write succeeds. A crash between publishing and marking republishes under the same webhookId,
   which consumers deduplicate on (delivery is at least once).
A record whose body breaks the queue contract, whose item is missing or whose payload is malformed fails
alone: it is named in `batchItemFailures`, SQS redelivers it, and after 3 receives it reaches the DLQ.
Once per batch, one metric line per provider: records processed, failed, and their end-to-end latency.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from botocore.exceptions import BotoCoreError, ClientError
from webhook_common import contract, logs, metrics, runtime
from webhook_common.contract import events as payment_events
from webhook_common.contract import metrics as metric_names
from webhook_common.contract import store
from webhook_common.normalise import OTHER, Canonical
from webhook_common.providers import PROVIDERS


class ItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


class RecordFailed(Exception):
    """This record cannot be processed now; SQS will redeliver it (and dead-letter it after 3 receives)."""


@dataclass(frozen=True)
class Prepared:
    """A record ready to publish and mark."""

    record: dict
    key: dict
    webhook_id: str
    canonical: Canonical | None  # None: an event type we do not map
    stale: bool
    event: dict[str, Any] | None  # the payment event to publish, or None (not published)
    received_at: str | None = None  # the item's receivedAt: where its end-to-end latency starts


def handler(event: dict, context: Any) -> BatchResponse:
    with logs.bound(**logs.invocation(context)):
        return process_batch(event.get("Records") or [], runtime.dynamodb(), runtime.events(),
                             runtime.processor_config())


def process_batch(records: list[dict], dynamodb: Any, events: Any, config: runtime.ProcessorConfig,
                  clock: Callable[[], float] = time.time) -> BatchResponse:
    failures: list[ItemFailure] = []
    ready: list[Prepared] = []
    tally = Tally()
    for record in records:
        try:
            with logs.bound(**record_context(record)):
                prepared = prepare(record, dynamodb, config)
        except Exception as error:  # noqa: BLE001 - one bad record must not fail or hide the others
            failures.append(_failed(record, error))
            tally.failed(_provider_of(_webhook_of(record)))
            continue
        if prepared is not None:
            ready.append(prepared)
    refused = publish(events, config, ready)
    for prepared in ready:
        try:
            with logs.bound(**record_context(prepared.record)):
                if prepared.webhook_id in refused:
                    raise RecordFailed(f"EventBridge refused the event: {refused[prepared.webhook_id]}")
                now = clock()
                won = mark(prepared, dynamodb, config.table_name, contract.item_time(now))
        except Exception as error:  # noqa: BLE001
            failures.append(_failed(prepared.record, error))
            tally.failed(_provider_of(prepared.webhook_id))
        else:
            if won:  # a copy another invocation finished first is counted there, once
                tally.processed(_provider_of(prepared.webhook_id), _latency_ms(prepared.received_at, now))
    tally.emit(config.stack_name)
    return {"batchItemFailures": failures}


class Tally:
    """The batch's outcomes per provider, emitted as one EMF line per provider once the batch is done
    (a line per record would cost the hot path a json.dumps and a write each)."""

    # EMF takes at most 100 values of one metric per line; a batch of more (a batching window) needs more lines.
    MAX_VALUES = 100

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # provider -> [processed, failed]
        self.latencies: dict[str, list[float]] = {}

    def processed(self, provider: str, latency_ms: float | None) -> None:
        self.counts.setdefault(provider, [0, 0])[0] += 1
        if latency_ms is not None:
            self.latencies.setdefault(provider, []).append(latency_ms)

    def failed(self, provider: str) -> None:
        self.counts.setdefault(provider, [0, 0])[1] += 1

    def emit(self, stack: str) -> None:
        for provider, (processed, failed) in self.counts.items():
            samples = self.latencies.get(provider, [])
            values: dict[str, float | list[float]] = {metric_names.PROCESSED: processed, metric_names.FAILED: failed}
            for start in range(0, max(len(samples), 1), self.MAX_VALUES):
                if samples:  # an empty list is no valid EMF value: a batch that finished nothing has no latency
                    values[metric_names.END_TO_END_LATENCY] = samples[start:start + self.MAX_VALUES]
                metrics.emit(values, {metric_names.STACK: stack, metric_names.PROVIDER: provider},
                             rollups=((metric_names.STACK,),),
                             units={metric_names.END_TO_END_LATENCY: metric_names.MILLISECONDS})
                values = {}


def _provider_of(webhook_id: str) -> str:
    """A webhookId is `{provider}#{eventId}`."""
    return metrics.provider_dimension(webhook_id.partition("#")[0])


def _latency_ms(received_at: str | None, now: float) -> float | None:
    """Milliseconds from the receiver storing the event (its receivedAt) to now; None if it has no usable time."""
    if not received_at:
        return None
    try:
        received = contract.item_seconds(received_at)
    except ValueError:
        return None
    return round(max(now - received, 0.0) * 1000, 1)


def record_context(record: dict) -> dict[str, Any]:
    """The webhook a record is about, and the trace the receiver passed on (SQS's AWSTraceHeader)."""
    return {"webhookId": _webhook_of(record), "traceId": record.get("attributes", {}).get("AWSTraceHeader")}


def _failed(record: dict, error: Exception) -> ItemFailure:
    with logs.bound(**record_context(record)):
        logs.log("WARNING", "record failed", messageId=record["messageId"],
                 receiveCount=record.get("attributes", {}).get("ApproximateReceiveCount", ""),
                 errorType=type(error).__name__, error=str(error) if isinstance(error, RecordFailed) else "")
    return {"itemIdentifier": record["messageId"]}


def _webhook_of(record: dict) -> str:
    """The failing record's webhookId for the log (so `logs --filter` finds it), when its body has one."""
    try:
        return contract.item_key(record.get("body", ""))["webhookId"]["S"]
    except (ValueError, TypeError, RecursionError):
        return ""


# --- 1. prepare ------------------------------------------------------------------------------------------


def prepare(record: dict, dynamodb: Any, config: runtime.ProcessorConfig) -> Prepared | None:
    """The record's canonical event and its order, or None when another copy already finished it."""
    try:
        key = contract.item_key(record["body"])
    except ValueError as error:
        raise RecordFailed(f"message body breaks the queue contract: {error}") from None
    item = dynamodb.get_item(TableName=config.table_name, Key=key, ConsistentRead=True).get("Item")
    if item is None:
        raise RecordFailed("no stored item for this key")
    webhook = key["webhookId"]["S"]
    if _string(item, contract.STATUS) in contract.FINAL:
        logs.log("INFO", "record done", messageId=record["messageId"],
                 outcome="already " + _string(item, contract.STATUS))
        return None
    canonical = normalise(item)
    if canonical is not None and canonical.occurred_at is None:  # the event carries no time of its own
        canonical = dataclasses.replace(canonical, occurred_at=_string(item, contract.RECEIVED_AT))
    stale = canonical is not None and order(dynamodb, config.table_name, item, webhook, canonical)
    publish_it = canonical is not None or config.publish_ignored
    event = payment_event(item, webhook, canonical, stale) if publish_it else None
    return Prepared(record, key, webhook, canonical, stale, event, _string(item, contract.RECEIVED_AT))


def normalise(item: dict) -> Canonical | None:
    provider = PROVIDERS.get(_string(item, "provider"))
    if provider is None:
        raise RecordFailed("item names no known provider")
    try:
        payload = json.loads(_string(item, contract.PAYLOAD))
    except (TypeError, ValueError, RecursionError):
        raise RecordFailed("stored payload is not JSON") from None
    try:
        return provider.normalise(payload, _string(item, "eventType") or contract.UNKNOWN_EVENT_TYPE)
    except ValueError as error:  # MalformedEvent
        raise RecordFailed(f"malformed {provider.name} event: {error}") from None


def order(dynamodb: Any, table: str, item: dict, webhook: str, canonical: Canonical) -> bool:
    """Whether a later event of the same payment was seen first (stale), with one conditional write:
    the latest (occurredAt, webhookId) wins, ties broken by the id, and a copy of the latest stays latest."""
    if not canonical.payment_id:
        return False
    values = {":occurred": {"S": canonical.occurred_at}, ":id": {"S": webhook}, ":ids": {"SS": [webhook]},
              ":expires": item.get(contract.TTL_ATTRIBUTE, {"N": "0"})}
    names = {"#at": store.LATEST_OCCURRED_AT, "#by": store.LATEST_WEBHOOK_ID, "#ids": store.PAYMENT_EVENTS,
             "#ttl": contract.TTL_ATTRIBUTE}
    key = store.payment_key(_string(item, "provider"), canonical.payment_id)
    try:
        dynamodb.update_item(
            TableName=table, Key=key, ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            UpdateExpression="SET #at = :occurred, #by = :id, #ttl = :expires ADD #ids :ids",
            ConditionExpression="attribute_not_exists(#at) OR #at < :occurred OR (#at = :occurred AND #by <= :id)")
        return False
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    # Older than what was seen: it still joins the payment's events, without moving its latest state.
    dynamodb.update_item(TableName=table, Key=key, UpdateExpression="ADD #ids :ids",
                         ExpressionAttributeNames={"#ids": store.PAYMENT_EVENTS},
                         ExpressionAttributeValues={":ids": values[":ids"]})
    return True


def payment_event(item: dict, webhook: str, canonical: Canonical | None, stale: bool) -> dict[str, Any]:
    category = canonical.category if canonical else OTHER
    return payment_events.detail(
        webhook_id=webhook, provider=_string(item, "provider"),
        provider_event_id=_string(item, "providerEventId") or _string(item, "eventId") or "",
        event_type=_string(item, "eventType") or contract.UNKNOWN_EVENT_TYPE, category=category,
        amount=canonical.amount if canonical else None, currency=canonical.currency if canonical else None,
        payment_id=canonical.payment_id if canonical else None,
        occurred_at=canonical.occurred_at if canonical else None,
        received_at=_string(item, contract.RECEIVED_AT) or "", stale=stale)


# --- 2. publish ------------------------------------------------------------------------------------------


def publish(events: Any, config: runtime.ProcessorConfig, ready: list[Prepared]) -> dict[str, str]:
    """PutEvents for every prepared event, in as few calls as the limits allow (one per SQS batch);
    returns webhookId -> why EventBridge did not take it."""
    publishing = [p for p in ready if p.event is not None]
    entries = [payment_events.entry(config.event_bus_name, p.event) for p in publishing]
    refused: dict[str, str] = {}
    for group in payment_events.batches(entries):
        try:
            answer = events.put_events(Entries=[entries[i] for i in group])
        except (BotoCoreError, ClientError) as error:
            refused.update({publishing[i].webhook_id: _error_name(error) for i in group})
            continue
        for index, result in zip(group, answer.get("Entries", []), strict=False):
            if result.get("ErrorCode"):
                refused[publishing[index].webhook_id] = result["ErrorCode"]
    if refused:
        metrics.emit({metric_names.PUBLISH_FAILED: len(refused)}, {metric_names.STACK: config.stack_name})
    return refused


def _error_name(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "ClientError")
    return type(error).__name__


# --- 3. mark ---------------------------------------------------------------------------------------------


def mark(prepared: Prepared, dynamodb: Any, table: str, now: str) -> bool:
    """The single conditional write; another copy winning first is no failure. True when this write won."""
    canonical = prepared.canonical
    status = contract.IGNORED if canonical is None else contract.PROCESSED
    fields = canonical_fields(canonical)
    if prepared.event is not None:
        fields["publishedAt"] = {"S": now}
    values = {":status": {"S": status}, ":now": {"S": now}, ":received": {"S": contract.RECEIVED},
              ":enqueued": {"S": contract.ENQUEUED}, ":stale": {"BOOL": prepared.stale},
              **{f":{k}": v for k, v in fields.items()}}
    assignments = ", ".join(["#s = :status", "processedAt = :now", "stale = :stale",
                             *(f"{k} = :{k}" for k in fields)])
    try:
        dynamodb.update_item(TableName=table, Key=prepared.key, ExpressionAttributeValues=values,
                             UpdateExpression=f"SET {assignments} REMOVE {store.PENDING_KEY}",
                             ConditionExpression="#s IN (:received, :enqueued)",
                             ExpressionAttributeNames={"#s": contract.STATUS})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        outcome = "finished by another copy"
    else:
        outcome = status
    logs.log("INFO", "record done", messageId=prepared.record["messageId"], outcome=outcome,
             published=prepared.event is not None, stale=prepared.stale)
    return outcome == status


def canonical_fields(canonical: Canonical | None) -> dict[str, dict[str, str]]:
    if canonical is None:
        return {"category": {"S": OTHER}}
    fields = {"category": {"S": canonical.category}}
    if canonical.amount is not None:
        fields["amount"] = {"N": str(canonical.amount)}
    for name, value in (("currency", canonical.currency), ("paymentId", canonical.payment_id),
                        ("occurredAt", canonical.occurred_at)):
        if value is not None:
            fields[name] = {"S": value}
    return fields


def _string(item: dict, name: str) -> str | None:
    return (item.get(name) or {}).get("S")
