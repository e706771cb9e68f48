"""Looking at the queues without disturbing them: counts, oldest age, a peek that hides nothing, purge."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from webhookctl.edge.errors import WebhookctlError
from webhookctl.edge.jsondoc import json_object
from webhookctl.edge.output import json_fields

# What a receive asks for: the contract's attributes plus the system fields peek and redrive show.
MESSAGE_ATTRIBUTE_NAMES = ["All"]
SYSTEM_ATTRIBUTE_NAMES = ["SentTimestamp", "ApproximateReceiveCount", "MessageGroupId",
                          "MessageDeduplicationId"]
COUNT_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed"]


@dataclass(frozen=True)
class MessageTags:
    """The few fields of a queued message that are safe to show: never the payload."""

    webhook_id: str | None
    provider: str | None
    event_type: str | None


def message_tags(message: Mapping[str, Any]) -> MessageTags:
    """Provider/event type from MessageAttributes (the contract), else from the JSON body if it has them."""
    attributes = message.get("MessageAttributes") or {}
    body = json_object(message.get("Body", "")) or {}

    def pick(attribute: str, body_key: str) -> str | None:
        value = (attributes.get(attribute) or {}).get("StringValue")
        if value is None and isinstance(body.get(body_key), str):
            value = body[body_key]
        return value

    webhook_id = body.get("webhookId")
    return MessageTags(webhook_id=webhook_id if isinstance(webhook_id, str) else None,
                       provider=pick("provider", "provider"), event_type=pick("eventType", "eventType"))


# ---- stats -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStats:
    """Counters for one queue; oldest_age_source: cloudwatch | peek | empty | unknown."""

    role: str
    url: str
    visible: int
    in_flight: int
    delayed: int
    oldest_age_seconds: int | None
    oldest_age_source: str

    def as_dict(self) -> dict[str, Any]:
        return json_fields(self)


def queue_counts(sqs: Any, url: str) -> tuple[int, int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNT_ATTRIBUTES)["Attributes"]
    return tuple(int(attributes.get(name, 0)) for name in COUNT_ATTRIBUTES)  # type: ignore[return-value]


def queue_stats(sqs: Any, cloudwatch: Any, role: str, url: str, *, may_peek: bool,
                clock: Callable[[], float] = time.time) -> QueueStats:
    """Counts, plus the oldest age from CloudWatch, else (if allowed) from a peek's SentTimestamp."""
    visible, in_flight, delayed = queue_counts(sqs, url)
    age, source = None, "empty"
    if visible + in_flight + delayed:
        age, source = _age_from_cloudwatch(cloudwatch, url, clock), "cloudwatch"
        if age is None and may_peek and visible:
            sent = [m.sent_timestamp_ms for m in peek(sqs, url, limit=10) if m.sent_timestamp_ms]
            age, source = (int(clock() - min(sent) / 1000), "peek") if sent else (None, "unknown")
        elif age is None:
            source = "unknown"
    return QueueStats(role, url, visible, in_flight, delayed, age, source)


def pipeline_queue_stats(sqs: Any, cloudwatch: Any, stack: Any, *,
                         clock: Callable[[], float] = time.time) -> list[QueueStats]:
    """The processing queue's and the DLQ's stats."""
    from webhookctl.handlers.webhook_common.contract import stack as outputs

    # Peeking the processing queue would count as a receive there and push messages toward the DLQ.
    return [queue_stats(sqs, cloudwatch, role, stack.require(output), may_peek=role == "dlq", clock=clock)
            for role, output in (("processing", outputs.PROCESSING_QUEUE_URL), ("dlq", outputs.DEAD_LETTER_QUEUE_URL))]


def _age_from_cloudwatch(cloudwatch: Any, url: str, clock: Callable[[], float]) -> int | None:
    """SQS publishes ApproximateAgeOfOldestMessage every minute for active queues; None if no recent point."""
    now = datetime.fromtimestamp(clock(), UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": url.rstrip("/").rsplit("/", 1)[-1]}],
        StartTime=now - timedelta(minutes=15), EndTime=now, Period=60, Statistics=["Maximum"],
    ).get("Datapoints", [])
    if not points:
        return None
    return int(max(points, key=lambda p: p["Timestamp"])["Maximum"])


# ---- peek --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeekedMessage:
    message_id: str
    sent_timestamp_ms: int | None
    receive_count: int | None
    webhook_id: str | None
    provider: str | None
    event_type: str | None

    def as_dict(self) -> dict[str, Any]:
        return json_fields(self)


def peek(sqs: Any, url: str, *, limit: int, wait_seconds: int = 1,
         hold_seconds: int = 30) -> list[PeekedMessage]:
    """Up to `limit` distinct messages; every receipt is made visible again before returning.

    Messages are held (hold_seconds) only while the sample is gathered so the next receive returns new
    ones. The first receive long-polls (wait_seconds): a short poll of a small queue can answer empty
    while messages exist. A receive still counts towards ApproximateReceiveCount, so peek only queues without a redrive
    policy of their own (the DLQ).
    """
    seen: dict[str, PeekedMessage] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            batch = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(10, limit - len(seen)), VisibilityTimeout=hold_seconds,
                WaitTimeSeconds=0 if seen else wait_seconds, MessageAttributeNames=MESSAGE_ATTRIBUTE_NAMES,
                MessageSystemAttributeNames=SYSTEM_ATTRIBUTE_NAMES).get("Messages", [])
            handles += [m["ReceiptHandle"] for m in batch]
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            seen.update((m["MessageId"], _peeked(m)) for m in fresh)
    finally:
        release(sqs, url, handles)
    return list(seen.values())[:limit]


def _peeked(message: Mapping[str, Any]) -> PeekedMessage:
    attributes = message.get("Attributes") or {}
    tags = message_tags(message)
    sent = attributes.get("SentTimestamp")
    count = attributes.get("ApproximateReceiveCount")
    return PeekedMessage(message["MessageId"], int(sent) if sent else None, int(count) if count else None,
                         tags.webhook_id, tags.provider, tags.event_type)


def release(sqs: Any, url: str, receipt_handles: Iterable[str]) -> list[str]:
    """Make received messages visible again at once; returns the handles SQS refused (gone, expired)."""
    handles = list(receipt_handles)
    refused: list[str] = []
    for start in range(0, len(handles), 10):
        chunk = handles[start:start + 10]
        response = sqs.change_message_visibility_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                                   for i, h in enumerate(chunk)])
        refused += [chunk[int(f["Id"])] for f in response.get("Failed", [])]
    return refused


# ---- purge -------------------------------------------------------------------------------------------


class PurgeInProgress(WebhookctlError):
    """SQS allows one purge per queue every 60 seconds."""


def purge(sqs: Any, url: str) -> None:
    from botocore.exceptions import ClientError

    try:
        sqs.purge_queue(QueueUrl=url)
    except ClientError as exc:
        if "PurgeQueueInProgress" not in exc.response.get("Error", {}).get("Code", ""):
            raise
        raise PurgeInProgress(f"a purge of {url} is already in progress (SQS allows one every 60 seconds): "
                              "wait a minute, then check `webhookctl dlq stats`") from exc
