"""`webhookctl events`: the store read through its time index (never a scan), one event in full,
re-publication of stored canonical events, and a live tail of the bus.

Listing merges, newest first, the index's shards of each day (contract.store): pages are fetched only as
the merge needs them, so what is read stays close to what is shown. Filters other than provider and time
(category, status) are applied by DynamoDB after reading, so they read the whole window.
"""

from __future__ import annotations

import heapq
import itertools
import json
import secrets as random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from webhookctl.edge.clock import Clock, RateLimiter
from webhookctl.edge.errors import UsageError, WebhookctlError
from webhookctl.handlers.webhook_common import contract
from webhookctl.handlers.webhook_common.contract import events as payment_events
from webhookctl.handlers.webhook_common.contract import store
from webhookctl.handlers.webhook_common.providers import PROVIDERS
from webhookctl.handlers.webhook_common.redact import LOG_ONLY_KEYS, mask_cards

STATUSES = (contract.RECEIVED, contract.ENQUEUED, contract.PROCESSED, contract.IGNORED)


@dataclass(frozen=True)
class EventQuery:
    since: float  # epoch seconds
    until: float
    providers: tuple[str, ...] = tuple(sorted(PROVIDERS))
    category: str | None = None
    status: str | None = None
    payment: str | None = None
    limit: int = 100

    def check(self) -> None:
        """Usage errors that state the rule, before any AWS call."""
        if self.since > self.until:
            raise UsageError("--since must be before --until")
        if self.category is not None and self.category not in payment_events.CATEGORIES:
            raise UsageError(f"unknown category {self.category!r}: use one of {', '.join(payment_events.CATEGORIES)}")
        if self.status is not None and self.status not in STATUSES:
            raise UsageError(f"unknown status {self.status!r}: use one of {', '.join(STATUSES)}")
        unknown = [p for p in self.providers if p not in PROVIDERS]
        if unknown:
            raise UsageError(f"unknown provider {unknown[0]!r}: use one of {', '.join(sorted(PROVIDERS))}")


@dataclass
class Listing:
    events: list[dict[str, Any]] = field(default_factory=list)  # plain values, newest first
    read: int = 0  # items DynamoDB read (ScannedCount): what the listing cost


def list_events(dynamodb: Any, table: str, query: EventQuery) -> Listing:
    query.check()
    listing = Listing()
    if query.payment is not None:
        return _payment_events(dynamodb, table, query, listing)
    for day in store.days(query.since, query.until):
        shards = [_shard_items(dynamodb, table, key, query, listing) for provider in query.providers
                  for key in store.list_keys(provider, day)]
        merged = heapq.merge(*shards, key=lambda item: item[store.LIST_SORT]["S"], reverse=True)
        listing.events += [plain(item) for item in itertools.islice(merged, query.limit - len(listing.events))]
        if len(listing.events) >= query.limit:
            break
    return listing


def _shard_items(dynamodb: Any, table: str, key: str, query: EventQuery, listing: Listing) -> Iterator[dict]:
    """One shard's items in the window, newest first, a small page at a time as the merge asks."""
    request: dict[str, Any] = {
        "TableName": table, "IndexName": store.TIME_INDEX, "ScanIndexForward": False,
        "Limit": max(1, -(-query.limit // store.SHARDS)),
        "KeyConditionExpression": "#k = :k AND #s BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#k": store.LIST_KEY, "#s": store.LIST_SORT},
        "ExpressionAttributeValues": {":k": {"S": key}, ":lo": {"S": contract.item_time(query.since)},
                                      ":hi": {"S": contract.item_time(query.until) + "~"}}}
    _add_filters(request, query)
    while True:
        page = dynamodb.query(**request)
        listing.read += page.get("ScannedCount", len(page.get("Items", [])))
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _add_filters(request: dict[str, Any], query: EventQuery) -> None:
    conditions = []
    for name, value in (("category", query.category), ("status", query.status)):
        if value is not None:
            request["ExpressionAttributeNames"][f"#{name}"] = name
            request["ExpressionAttributeValues"][f":{name}"] = {"S": value}
            conditions.append(f"#{name} = :{name}")
    if conditions:
        request["FilterExpression"] = " AND ".join(conditions)


def _payment_events(dynamodb: Any, table: str, query: EventQuery, listing: Listing) -> Listing:
    """A payment's events from its ordering record: read exactly what is shown."""
    ids: list[str] = []
    for provider in query.providers:
        record = dynamodb.get_item(TableName=table, Key=store.payment_key(provider, query.payment),
                                   ProjectionExpression="#ids", ExpressionAttributeNames={"#ids": store.PAYMENT_EVENTS},
                                   ).get("Item")
        listing.read += 1 if record else 0
        ids += sorted((record or {}).get(store.PAYMENT_EVENTS, {}).get("SS", []))
    items = _batch_get(dynamodb, table, ids)
    listing.read += len(items)
    window = (contract.item_time(query.since), contract.item_time(query.until) + "~")
    chosen = [plain(i) for i in items if window[0] <= i.get(contract.RECEIVED_AT, {}).get("S", "") <= window[1]
              and all(i.get(k, {}).get("S") == v for k, v in (("category", query.category),
                                                                ("status", query.status)) if v is not None)]
    listing.events = sorted(chosen, key=lambda e: e.get("receivedAt") or "", reverse=True)[:query.limit]
    return listing


def _batch_get(dynamodb: Any, table: str, webhook_ids: list[str]) -> list[dict]:
    found: list[dict] = []
    for start in range(0, len(webhook_ids), 100):
        keys = [{"webhookId": {"S": w}, "timestamp": {"S": contract.ITEM_TIMESTAMP}}
                for w in webhook_ids[start:start + 100]]
        request = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            found += answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
    return found


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """An item's attributes as plain values (no type descriptors); never the payload."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialise = TypeDeserializer().deserialize
    values = {k: deserialise(v) for k, v in item.items() if k != contract.PAYLOAD}
    return {k: int(v) if k == "amount" and v is not None else v for k, v in values.items()}


# --- show -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    fields: dict[str, Any]
    timeline: list[tuple[str, str]]  # (what happened, when), in order
    payload: Any  # card numbers masked (as stored) and secrets hidden


TIMELINE = (("received", "receivedAt"), ("enqueued", "enqueuedAt"), ("processed", "processedAt"),
            ("published", "publishedAt"))


def show_event(dynamodb: Any, table: str, webhook_id: str) -> Shown:
    if "#" not in webhook_id:
        raise UsageError(f"{webhook_id!r} is not a webhook id: they read PROVIDER#EVENT_ID (see `events list`)")
    key = {"webhookId": {"S": webhook_id}, "timestamp": {"S": contract.ITEM_TIMESTAMP}}
    item = dynamodb.get_item(TableName=table, ConsistentRead=True, Key=key).get("Item")
    if item is None:
        raise WebhookctlError(f"no stored event {webhook_id} (events are kept event_ttl_days)")
    fields = plain(item)
    timeline = [(what, fields[key]) for what, key in TIMELINE if fields.get(key)]
    try:
        payload = hide_secrets(json.loads(item.get(contract.PAYLOAD, {}).get("S", "null")))
    except ValueError:
        payload = "(not JSON)"
    return Shown({k: v for k, v in fields.items() if not k.startswith(("list", "pending"))}, timeline, payload)


def hide_secrets(value: Any) -> Any:
    """The stored payload for a person to read: card numbers masked again, secret-named values hidden."""
    if isinstance(value, dict):
        return {k: "****" if "".join(c for c in k.lower() if c.isalnum()) in LOG_ONLY_KEYS - {"payload"}
                else hide_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(v) for v in value]
    return mask_cards(value)


# --- replay -----------------------------------------------------------------------------------------------


@dataclass
class ReplayResult:
    replayed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)  # ids not (yet) processed: nothing canonical to publish
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def replay_candidates(dynamodb: Any, table: str, query: EventQuery | None, webhook_ids: list[str]) -> list[dict]:
    """The stored events a replay would republish: by id, or by the listing's filters."""
    if webhook_ids:
        return [plain(i) for i in _batch_get(dynamodb, table, webhook_ids)]
    return list_events(dynamodb, table, query).events if query else []


def estimate(events: list[dict]) -> dict[tuple[str, str], int]:
    """(provider, category) -> how many, for the question before a replay."""
    counts: dict[tuple[str, str], int] = {}
    for event in events:
        key = (event.get("provider", "?"), event.get("category") or "-")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def replay(events_client: Any, bus_name: str, stored: list[dict], *, rate: float | None = None,
           clock: Clock, on_progress: Callable[[ReplayResult], None] = lambda result: None) -> ReplayResult:
    """Republish processed events with replay: true and their original ids; never reprocesses anything."""
    result = ReplayResult()
    ready = [e for e in stored if e.get("status") == contract.PROCESSED]
    result.skipped = [e["webhookId"] for e in stored if e.get("status") != contract.PROCESSED]
    entries = [payment_events.entry(bus_name, republished(e)) for e in ready]
    limiter = RateLimiter(rate, clock.monotonic, clock.sleep) if rate else None
    for group in payment_events.batches(entries):
        if limiter:
            limiter.acquire(len(group))
        try:
            answer = events_client.put_events(Entries=[entries[i] for i in group])
        except Exception as exc:  # noqa: BLE001 - reported per entry; a replay run goes on with the rest
            result.failed += len(group)
            result.errors.append(f"PutEvents: {getattr(exc, 'response', {}).get('Error', {}).get('Code', exc)}")
            continue
        failures = [r for r in answer.get("Entries", []) if r.get("ErrorCode")]
        result.failed += len(failures)
        result.replayed += len(group) - len(failures)
        result.errors += sorted({f"{r['ErrorCode']}: {r.get('ErrorMessage', '')}" for r in failures})
        on_progress(result)
    return result


def republished(event: dict[str, Any]) -> dict[str, Any]:
    """The stored canonical record as the payment event it was, marked as a replay."""
    return payment_events.detail(
        webhook_id=event["webhookId"], provider=event["provider"],
        provider_event_id=event.get("providerEventId") or event.get("eventId") or "",
        event_type=event.get("eventType") or contract.UNKNOWN_EVENT_TYPE, category=event.get("category") or "other",
        amount=event.get("amount"), currency=event.get("currency"), payment_id=event.get("paymentId"),
        occurred_at=event.get("occurredAt"), received_at=event.get("receivedAt") or "",
        stale=bool(event.get("stale")), replay=True)


# --- tail -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tail:
    """A temporary rule on the bus and the queue it delivers to, named for this session."""

    rule: str
    queue_url: str


def tail_pattern(providers: tuple[str, ...], category: str | None) -> dict[str, Any]:
    pattern: dict[str, Any] = {"source": [payment_events.source(p) for p in providers]}
    if category:
        pattern["detail-type"] = [category]
    return pattern


def open_tail(events_client: Any, sqs: Any, bus_name: str, suffix: str, pattern: dict[str, Any]) -> Tail:
    """Create the session's queue (SQS-managed encryption), its policy for this rule only, and the rule."""
    name = f"webhookctl-tail-{suffix}-{random.token_hex(4)}"
    queue_url = sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "true",
                                                             "MessageRetentionPeriod": "3600"})["QueueUrl"]
    tail = Tail(name, queue_url)
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule_arn = events_client.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps(pattern),
                                          Description="webhookctl events tail (removed when the tail stops)")["RuleArn"]
        policy = json.dumps(_tail_policy(queue_arn, rule_arn))
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})
        events_client.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "tail", "Arn": queue_arn}])
    except BaseException:
        close_tail(events_client, sqs, bus_name, tail)
        raise
    return tail


def _tail_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "TailRuleOnly", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}


def tail_events(sqs: Any, tail: Tail, *, wait_seconds: int = 10) -> Iterator[dict[str, Any]]:
    """Events as the rule delivers them (each deleted once read); runs until the caller stops."""
    while True:
        messages = sqs.receive_message(QueueUrl=tail.queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=wait_seconds).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            sqs.delete_message(QueueUrl=tail.queue_url, ReceiptHandle=message["ReceiptHandle"])
            yield event


def close_tail(events_client: Any, sqs: Any, bus_name: str, tail: Tail) -> list[str]:
    """Remove the rule's target, the rule and the queue; returns what could not be removed (said once)."""
    left = []
    steps = (("target", lambda: events_client.remove_targets(Rule=tail.rule, EventBusName=bus_name, Ids=["tail"])),
             ("rule", lambda: events_client.delete_rule(Name=tail.rule, EventBusName=bus_name)),
             ("queue", lambda: sqs.delete_queue(QueueUrl=tail.queue_url)))
    for what, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - keep removing the rest; the caller says what is left
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code not in ("ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue"):
                left.append(f"{what} {tail.rule} ({code or type(exc).__name__})")
    return left
