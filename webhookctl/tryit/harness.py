"""What the sandbox adjusts in the embedded emulator (moto runs in this process), each for one reason.

None of it changes what AWS would answer; it makes moto answer that way under the sandbox's load and
threads, or lets the sandbox poll where moto would otherwise deliver by itself.
"""

from __future__ import annotations

from typing import Any


class InProcessAws:
    """moto's in-process interception, over the same state the emulator's HTTP server serves.

    The handlers, pollers and deploy in this process reach the emulator without HTTP (about 3x less CPU
    per call: the pipeline shares one interpreter), while other commands use the server's URL.
    """

    def __init__(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()

    def start(self) -> InProcessAws:
        self._mock.start(reset=False)  # keep what the server holds: it is the same account
        return self

    def stop(self) -> None:
        self._mock.stop(remove_data=False)


def streams_client(region: str) -> Any:
    """DynamoDB Streams addressed by its regional endpoint: botocore otherwise derives an account-based host
    from the StreamArn, which the in-process emulator does not recognise (moto-notes, Harness)."""
    import boto3

    return boto3.client("dynamodbstreams", region_name=region,
                        endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com")


def detach_stream_mappings(table_name: str) -> None:
    """moto pushes every stream record to a mapped function and then empties the stream, even when the
    mapping is disabled (moto-notes §3), so GetRecords would see nothing. The emulator runs in this process:
    unhook moto's stream delivery for the table (the mapping itself stays, disabled, for `status`)."""
    from moto.dynamodb.models import dynamodb_backends

    for account in list(dynamodb_backends):
        for region in list(dynamodb_backends[account]):
            table = dynamodb_backends[account][region].tables.get(table_name)
            if table is not None:
                table.lambda_event_source_mappings.clear()


_sqs_patched = False


def speed_up_emulated_sqs() -> None:
    """moto's SQS is O(depth) per call with two datetime conversions per queued message, and a receive
    recomputes every queue attribute for each message it returns (O(depth²)): once a backlog forms, the
    pipeline stalls (moto-notes §8). Same answers, cheaper: the retention check reads the one attribute
    it needs, and visibility/delay are compared against one clock reading per call. (Candidate for
    emulator.py.)"""
    global _sqs_patched
    if _sqs_patched:
        return
    from moto.core.utils import unix_time, unix_time_millis
    from moto.sqs.models import Queue, SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    Queue.messages = property(messages)
    Queue.approximate_number_of_messages_delayed = property(delayed)
    Queue.approximate_number_of_messages_not_visible = property(not_visible)
    _sqs_patched = True


_streams_patched = False


def speed_up_emulated_stream_reads() -> None:
    """moto's generic response serializer walks every typed attribute of every stream record, which cost
    a fifth of the sandbox's CPU; the records are already in DynamoDB's wire format, so GetRecords
    answers them as JSON directly (times as epoch seconds, as the JSON protocol sends them)."""
    global _streams_patched
    if _streams_patched:
        return
    import json
    from datetime import datetime

    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def epoch(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.timestamp()
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    def get_records(self: Any) -> str:
        result = self.backend.get_records(self._get_param("ShardIterator"), self._get_param("Limit") or 1000)
        return json.dumps(result, default=epoch)

    DynamoDBStreamsHandler.get_records = get_records
    _streams_patched = True
