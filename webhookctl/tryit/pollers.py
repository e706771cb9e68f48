"""The event source mappings and the alarm evaluation the emulator does not perform, one class each.

Each `poll_once()` does one round and returns how much work it found, so tests drive them step by step
and `run_loop` idles only when there was nothing to do.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webhookctl.tryit.functions import Invocation

Invoke = Callable[[dict[str, Any]], Invocation]


# --- SQS -> processor -------------------------------------------------------------------------------


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller builds from a received message."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {name: _lambda_attribute(value)
                              for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute -> Lambda event attribute (camelCase, binary as base64)."""
    binary = value.get("BinaryValue")
    return {"stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}


def failed_message_ids(invocation: Invocation, message_ids: list[str]) -> set[str]:
    """Which messages go back to the queue, by ReportBatchItemFailures rules.

    A function error, or a response naming an id that is not in the batch, fails the whole batch;
    no response (or an empty list) means every message succeeded.
    """
    if invocation.error is not None:
        return set(message_ids)
    response = invocation.result
    if response is None:
        return set()
    if not isinstance(response, dict):
        return set(message_ids)
    failures = response.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return set(message_ids)
    ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    return set(message_ids) if any(i not in message_ids for i in ids) else set(ids)


@dataclass
class QueuePoller:
    """The processing queue's event source mapping, run by the sandbox."""

    sqs: Any
    queue_url: str
    queue_arn: str
    invoke: Invoke
    region: str
    batch_size: int = 10
    # Failed messages come back after this many seconds rather than the queue's visibility timeout, so a
    # local DLQ drill takes seconds; the receive count and the redrive to the DLQ are SQS's own.
    retry_delay_s: int = 1

    def poll_once(self) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, AttributeNames=["All"],
            MessageAttributeNames=["All"], WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_record(m, self.queue_arn, self.region) for m in messages]}
        failed = failed_message_ids(self.invoke(event), [m["MessageId"] for m in messages])
        refused = self._delete([m for m in messages if m["MessageId"] not in failed])
        self._release([m for m in messages if m["MessageId"] in failed])
        if refused:  # said, not hidden: those messages come back after the queue's visibility timeout
            raise RuntimeError(f"DeleteMessageBatch refused {len(refused)} of {len(messages)} processed messages "
                               f"({refused[0].get('Code')}): they return after the queue's visibility timeout")
        return len(messages)

    def _delete(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries SQS refused to delete."""
        if not messages:
            return []
        return self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]).get("Failed", [])

    def _release(self, messages: list[dict[str, Any]]) -> None:
        if messages:
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay_s}
                for i, m in enumerate(messages)])


# --- DynamoDB stream -> audit ----------------------------------------------------------------------


def stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: eventSourceARN added, creation time in epoch seconds."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")  # raw from streams_client; a datetime from others
    if created is not None:
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp() if isinstance(created, datetime) else created)
    return {**record, "dynamodb": dynamodb, "awsRegion": region, "eventSourceARN": stream_arn}


def first_failure(invocation: Invocation, records: list[dict[str, Any]]) -> int | None:
    """Index of the first record to retry (ReportBatchItemFailures for streams), or None if all succeeded."""
    if invocation.error is not None:
        return 0
    response = invocation.result
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return None
    if not isinstance(failures, list):
        return 0
    sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
    ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if any(i not in sequence for i in ids):
        return 0
    return min(sequence.index(i) for i in ids)


@dataclass
class ShardReader:
    shard_id: str
    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)  # records being retried
    attempts: int = 0


@dataclass
class StreamPoller:
    """The table stream's event source mapping: batches in order, retries from the first failure, and
    after max_retries sends the batch's description to the on-failure queue and moves on."""

    streams: Any
    stream_arn: str
    invoke: Invoke
    region: str
    batch_size: int = 100
    max_retries: int = 3
    on_failure: Callable[[dict[str, Any]], None] = lambda description: None
    observe: Callable[[list[dict[str, Any]]], None] = lambda records: None
    starting_position: str = "TRIM_HORIZON"
    shards: list[ShardReader] = field(default_factory=list)

    def open(self) -> StreamPoller:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                                                       ShardIteratorType=self.starting_position)["ShardIterator"]
            self.shards.append(ShardReader(shard["ShardId"], iterator))
        return self

    def poll_once(self) -> int:
        return sum(self._poll_shard(shard) for shard in self.shards)

    def _poll_shard(self, shard: ShardReader) -> int:
        records, fresh = shard.pending, not shard.pending
        if fresh and shard.iterator:
            answer = self.streams.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
            shard.iterator = answer.get("NextShardIterator")
            records = [stream_record(r, self.stream_arn, self.region) for r in answer.get("Records", [])]
        if not records:
            return 0
        failed_at = first_failure(self.invoke({"Records": records}), records)
        if fresh:
            self.observe(records)  # once per record, after the function has seen it
        self._settle(shard, records, failed_at)
        return len(records)

    def _settle(self, shard: ShardReader, records: list[dict[str, Any]], failed_at: int | None) -> None:
        if failed_at is None:
            shard.pending, shard.attempts = [], 0
            return
        shard.attempts += 1
        if shard.attempts <= self.max_retries:
            shard.pending = records[failed_at:]
            return
        self.on_failure(failure_description(shard.shard_id, self.stream_arn, records[failed_at:], shard.attempts))
        shard.pending, shard.attempts = [], 0


def failure_description(shard_id: str, stream_arn: str, records: list[dict[str, Any]],
                        attempts: int) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's on-failure destination (the batch's position, not its data)."""
    sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
    return {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
        "DDBStreamBatchInfo": {"shardId": shard_id, "startSequenceNumber": sequence[0],
                               "endSequenceNumber": sequence[-1], "batchSize": len(records),
                               "streamArn": stream_arn},
        "timestamp": datetime.now().astimezone().isoformat(),
    }


# --- DLQ depth -> alarm state ----------------------------------------------------------------------

COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}


@dataclass
class DepthAlarm:
    """Evaluates one alarm on a queue's visible-message count, as CloudWatch would from the SQS metric."""

    sqs: Any
    cloudwatch: Any
    queue_url: str
    alarm_name: str

    def poll_once(self) -> int:
        alarms = self.cloudwatch.describe_alarms(AlarmNames=[self.alarm_name])["MetricAlarms"]
        if not alarms:
            return 0
        alarm = alarms[0]
        depth = int(self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
        breaching = COMPARE[alarm["ComparisonOperator"]](depth, alarm["Threshold"])
        state = "ALARM" if breaching else "OK"
        if state == alarm["StateValue"]:
            return 0
        self.cloudwatch.set_alarm_state(
            AlarmName=self.alarm_name, StateValue=state,
            StateReason=f"Threshold Crossed: {depth} visible message(s) in the queue "
                        f"({'>=' if breaching else '<'} {alarm['Threshold']:g}), evaluated by the local sandbox",
            StateReasonData=json.dumps({"version": "1.0", "queryDate": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                        "recentDatapoints": [depth], "threshold": alarm["Threshold"]}))
        return 1


# --- running them ---------------------------------------------------------------------------------


def run_loop(poll: Callable[[], int], stop: threading.Event, *, idle_s: float,
             report: Callable[[str], None], name: str) -> None:
    """poll() until stop is set; wait idle_s only when a round found nothing; an error is reported, not fatal."""
    failures = 0
    while not stop.is_set():
        try:
            found = poll()
            failures = 0
        except Exception as exc:  # noqa: BLE001 - one bad round must not kill the sandbox's poller
            failures += 1
            report(f"{name}: {type(exc).__name__}: {exc}")
            found = 0
        if not found:
            stop.wait(idle_s * min(2 ** failures, 20))
