"""DynamoDB Streams: what a stream holds while its Lambda mapping is disabled, and GetRecords at the sandbox's pace."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from typing import Any

from webhookctl.tryit.emulator.probe import Probe

TABLE = {"TableName": "probe", "BillingMode": "PAY_PER_REQUEST",
         "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
         "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
         "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def patch_disabled_stream_mapping() -> None:
    """moto pushes every stream record to a mapped function even when the mapping is disabled, and then empties
    the stream (moto-notes §3), so a reader polling in the mapping's place (the sandbox) would see nothing. A
    disabled mapping gets nothing, and the records stay for GetRecords, as on AWS."""
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.send_dynamodb_items

    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> Any:
        mappings = [m for m in self.list_event_source_mappings(source, "") if m.function_arn == function_arn]
        if mappings and not any(m.enabled for m in mappings):
            return None  # nothing delivered: moto then keeps the stream's records
        return original(self, function_arn, items, source)

    LambdaBackend.send_dynamodb_items = send_dynamodb_items


def disabled_mapping_drains_the_stream(aws: Probe) -> bool:
    """After a write to a table whose stream has a disabled mapping, GetRecords from the start finds nothing."""
    dynamodb, lambdas = aws.client("dynamodb"), aws.client("lambda")
    stream_arn = dynamodb.create_table(**TABLE)["TableDescription"]["LatestStreamArn"]
    lambdas.create_function(FunctionName="probe", Runtime="python3.11", Role=aws.role_arn(), Handler="probe.handler",
                            Code=aws.code_object("probe.zip"))
    lambdas.create_event_source_mapping(FunctionName="probe", EventSourceArn=stream_arn, Enabled=False,
                                        StartingPosition="TRIM_HORIZON")
    dynamodb.put_item(TableName="probe", Item={"k": {"S": "1"}})
    return not aws.client("dynamodbstreams").get_records(ShardIterator=_iterator(aws, stream_arn))["Records"]


def _iterator(aws: Probe, stream_arn: str) -> str:
    """A shard iterator at the start of the table's only shard."""
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]


def patch_fast_get_records() -> None:
    """moto's generic response serializer walks every typed attribute of every stream record, which cost a fifth
    of the sandbox's CPU; the records are already in DynamoDB's wire format, so GetRecords answers them as JSON
    directly (times as epoch seconds and binaries as base64, as the JSON protocol sends them)."""
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def get_records(self: Any) -> str:
        result = self.backend.get_records(self._get_param("ShardIterator"), self._get_param("Limit") or 1000)
        return json.dumps(result, default=_as_sent)

    DynamoDBStreamsHandler.get_records = get_records


def _as_sent(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):  # moto keeps B and BS values decoded
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def get_records_is_slow(aws: Probe) -> bool:
    """Timing (a cost, not a behaviour): moto's side of GetRecords for 100 records takes over 10x what json.dumps
    of them takes in the same process (measured: ~70x unpatched, ~2x with the patch)."""
    dynamodb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    stream_arn = dynamodb.create_table(**TABLE)["TableDescription"]["LatestStreamArn"]
    attributes = {f"a{i}": {"S": "v" * 20} for i in range(10)}
    for i in range(100):
        dynamodb.put_item(TableName="probe", Item={"k": {"S": str(i)}, **attributes})
    iterator = _iterator(aws, stream_arn)
    marks: list[float] = []
    for event in ("before-sign", "before-parse"):  # in-process moto answers between the two
        streams.meta.events.register(event, lambda **kwargs: marks.append(time.perf_counter()))
    moto_seconds, dumps_seconds = [], []
    for _ in range(3):
        records = streams.get_records(ShardIterator=iterator)["Records"]
        moto_seconds.append(marks[-1] - marks[-2])
        started = time.perf_counter()
        json.dumps(records, default=str)
        dumps_seconds.append(time.perf_counter() - started)
    return min(moto_seconds) > 10 * min(dumps_seconds)
