"""The sandbox's event source mappings and alarm evaluation, round by round."""

from __future__ import annotations

import json

import pytest

from tests.conftest import emulator_clients
from webhookctl.tryit.functions import Invocation
from webhookctl.tryit.pollers import (
    DepthAlarm,
    QueuePoller,
    StreamPoller,
    failed_message_ids,
    first_failure,
    sqs_record,
)

ARN = "arn:aws:sqs:us-east-1:123456789012:main"


def invocation(result=None, error=None) -> Invocation:
    return Invocation("rid", result, error, [], 1.0)


class Recorder:
    """A function that answers from a script and remembers the events it got."""

    def __init__(self, *answers: Invocation) -> None:
        self.answers, self.events = list(answers), []

    def __call__(self, event):
        self.events.append(event)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


# --- SQS: ReportBatchItemFailures rules


@pytest.mark.parametrize(("outcome", "failed"), [
    (invocation({"batchItemFailures": []}), set()),
    (invocation(None), set()),
    (invocation({"batchItemFailures": [{"itemIdentifier": "b"}]}), {"b"}),
    (invocation({"batchItemFailures": [{"itemIdentifier": "zz"}]}), {"a", "b", "c"}),  # unknown id
    (invocation({"batchItemFailures": [{}]}), {"a", "b", "c"}),  # no id
    (invocation({"batchItemFailures": "b"}), {"a", "b", "c"}),  # not a list
    (invocation("ok"), {"a", "b", "c"}),  # not an object
    (invocation(error="RuntimeError: boom"), {"a", "b", "c"}),  # function error
])
def test_failed_message_ids_follow_report_batch_item_failures(outcome, failed):
    assert failed_message_ids(outcome, ["a", "b", "c"]) == failed


def test_sqs_record_has_lambdas_shape():
    message = {"MessageId": "m1", "ReceiptHandle": "rh", "Body": "{}", "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
               "Attributes": {"ApproximateReceiveCount": "2"},
               "MessageAttributes": {"provider": {"DataType": "String", "StringValue": "stripe"}}}
    assert sqs_record(message, ARN, "us-east-1") == {
        "messageId": "m1", "receiptHandle": "rh", "body": "{}", "attributes": {"ApproximateReceiveCount": "2"},
        "messageAttributes": {"provider": {"stringValue": "stripe", "binaryValue": None, "stringListValues": [],
                                           "binaryListValues": [], "dataType": "String"}},
        "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b", "eventSource": "aws:sqs", "eventSourceARN": ARN,
        "awsRegion": "us-east-1"}


@pytest.fixture
def queues(clean_emulator):
    sqs = emulator_clients(clean_emulator).sqs
    dlq = sqs.create_queue(QueueName="t-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    main = sqs.create_queue(QueueName="t-main", Attributes={
        "VisibilityTimeout": "180",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    return sqs, main, dlq


def depth(sqs, url) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def send(sqs, url, *bodies):
    return [sqs.send_message(QueueUrl=url, MessageBody=b)["MessageId"] for b in bodies]


def test_only_the_failed_message_returns_to_the_queue(queues):
    sqs, main, dlq = queues
    ids = send(sqs, main, "a", "b", "c")
    function = Recorder(invocation({"batchItemFailures": [{"itemIdentifier": ids[1]}]}),
                        invocation({"batchItemFailures": []}))
    poller = QueuePoller(sqs, main, ARN, function, "us-east-1", batch_size=10, retry_delay_s=0)
    assert poller.poll_once() == 3
    assert poller.poll_once() == 1  # the failed one, visible again at once (retry_delay_s=0)
    assert [r["body"] for r in function.events[1]["Records"]] == ["b"]
    assert function.events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert (depth(sqs, main), depth(sqs, dlq), poller.poll_once()) == (0, 0, 0)


def test_a_function_error_keeps_the_whole_batch_invisible_until_the_retry_delay(queues):
    sqs, main, _ = queues
    send(sqs, main, "a", "b")
    poller = QueuePoller(sqs, main, ARN, Recorder(invocation(error="Boom")), "us-east-1", retry_delay_s=60)
    assert (poller.poll_once(), poller.poll_once(), depth(sqs, main)) == (2, 0, 2)


def test_a_poison_message_reaches_the_dlq_after_three_receives(queues):
    sqs, main, dlq = queues
    (poison,) = send(sqs, main, "poison")
    function = Recorder(invocation({"batchItemFailures": [{"itemIdentifier": poison}]}))
    poller = QueuePoller(sqs, main, ARN, function, "us-east-1", retry_delay_s=0)
    handled = [poller.poll_once() for _ in range(4)]
    assert handled == [1, 1, 1, 0]  # the 4th receive finds it gone: SQS's redrive policy moved it
    assert (depth(sqs, main), depth(sqs, dlq)) == (0, 1)
    assert [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in function.events] == ["1", "2", "3"]


def test_a_delete_sqs_refuses_is_said_and_the_rest_of_the_round_still_happens(queues):
    sqs, main, _ = queues
    send(sqs, main, "a", "b")
    function = Recorder(invocation({"batchItemFailures": []}))
    poller = QueuePoller(sqs, main, ARN, function, "us-east-1")
    real = sqs.delete_message_batch

    def refuses_the_first(QueueUrl, Entries):  # noqa: N803 - boto3's own spelling
        real(QueueUrl=QueueUrl, Entries=Entries[1:])
        return {"Successful": [{"Id": e["Id"]} for e in Entries[1:]],
                "Failed": [{"Id": Entries[0]["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True}]}

    poller.sqs = type("RefusingSqs", (), {"receive_message": sqs.receive_message,
                                          "delete_message_batch": staticmethod(refuses_the_first)})()
    with pytest.raises(RuntimeError, match="refused 1 of 2 processed messages .ReceiptHandleIsInvalid."):
        poller.poll_once()
    assert depth(sqs, main) == 1  # the refused one stays on the queue; the other was deleted


def test_batches_respect_the_batch_size(queues):
    sqs, main, _ = queues
    send(sqs, main, *[str(i) for i in range(5)])
    function = Recorder(invocation({"batchItemFailures": []}))
    poller = QueuePoller(sqs, main, ARN, function, "us-east-1", batch_size=2)
    assert [poller.poll_once() for _ in range(4)] == [2, 2, 1, 0]


# --- DynamoDB streams


def stream_records(*numbers: int) -> list[dict]:
    return [{"eventID": str(n), "eventName": "INSERT", "dynamodb": {"SequenceNumber": str(n), "Keys": {}}}
            for n in numbers]


class FakeStreams:
    """GetRecords over a fixed list: the iterator is the index of the next record."""

    def __init__(self, records: list[dict]) -> None:
        self.records = records

    def describe_stream(self, StreamArn):  # noqa: N803 - boto3's parameter names
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType):  # noqa: N803
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator, Limit):  # noqa: N803
        start = int(ShardIterator)
        return {"Records": self.records[start:start + Limit], "NextShardIterator": str(start + Limit)}


def test_stream_batch_is_retried_from_the_first_failed_record():
    function = Recorder(invocation({"batchItemFailures": [{"itemIdentifier": "2"}]}),
                        invocation({"batchItemFailures": []}))
    observed = []
    poller = StreamPoller(FakeStreams(stream_records(1, 2, 3)), "arn:stream", function, "us-east-1",
                          observe=observed.extend).open()
    assert (poller.poll_once(), poller.poll_once(), poller.poll_once()) == (3, 2, 0)
    assert [r["dynamodb"]["SequenceNumber"] for r in observed] == ["1", "2", "3"]  # each shown once
    assert [[r["dynamodb"]["SequenceNumber"] for r in e["Records"]] for e in function.events] == [
        ["1", "2", "3"], ["2", "3"]]
    assert function.events[0]["Records"][0]["eventSourceARN"] == "arn:stream"


def test_records_from_the_emulators_stream_reach_the_function_as_lambda_hands_them_on():
    import time

    import boto3
    from moto import mock_aws

    from webhookctl.tryit.emulator.inprocess import streams_client

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        arn = dynamodb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        dynamodb.put_item(TableName="t", Item={"k": {"S": "a"}, "b": {"B": b"\x00\x01"}})
        function = Recorder(invocation({"batchItemFailures": []}))
        poller = StreamPoller(streams_client("us-east-1"), arn, function, "us-east-1").open()
        assert poller.poll_once() == 1
    (record,) = function.events[0]["Records"]
    created = record["dynamodb"]["ApproximateCreationDateTime"]
    assert type(created) is int and abs(created - time.time()) < 60  # epoch seconds, not a datetime
    # Lambda's event is JSON: a binary stays base64 (botocore's parse would have made it bytes).
    assert record["dynamodb"]["NewImage"] == {"k": {"S": "a"}, "b": {"B": "AAE="}}
    assert record["dynamodb"]["Keys"] == {"k": {"S": "a"}}
    assert (record["eventName"], record["eventSource"], record["eventSourceARN"]) == ("INSERT", "aws:dynamodb", arn)


def test_exhausted_stream_retries_go_to_the_on_failure_destination_and_the_shard_moves_on():
    failures = []
    function = Recorder(invocation(error="Boom"))
    poller = StreamPoller(FakeStreams(stream_records(7, 8)), "arn:stream", function, "us-east-1", batch_size=2,
                          max_retries=2, on_failure=failures.append).open()
    assert [poller.poll_once() for _ in range(4)] == [2, 2, 2, 0]
    (failure,) = failures
    assert failure["DDBStreamBatchInfo"] == {"shardId": "shard-1", "startSequenceNumber": "7",
                                             "endSequenceNumber": "8", "batchSize": 2, "streamArn": "arn:stream"}
    assert failure["requestContext"] == {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3}


@pytest.mark.parametrize(("outcome", "index"), [
    (invocation({"batchItemFailures": []}), None), (invocation(None), None),
    (invocation({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}), 1),
    (invocation({"batchItemFailures": [{"itemIdentifier": "9"}]}), 0),
    (invocation(error="Boom"), 0),
])
def test_first_failure_is_the_lowest_reported_sequence_number(outcome, index):
    assert first_failure(outcome, stream_records(1, 2, 3)) == index


# --- the DLQ-depth alarm


def test_depth_alarm_goes_to_alarm_and_back_to_ok_with_the_queue(queues, clean_emulator):
    sqs, _, dlq = queues
    cloudwatch = emulator_clients(clean_emulator).cloudwatch
    cloudwatch.put_metric_alarm(
        AlarmName="dlq-depth", Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "t-dlq"}], Statistic="Maximum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    alarm = DepthAlarm(sqs, cloudwatch, dlq, "dlq-depth")

    def state():
        return cloudwatch.describe_alarms(AlarmNames=["dlq-depth"])["MetricAlarms"][0]["StateValue"]

    assert (alarm.poll_once(), state()) == (0, "OK")
    send(sqs, dlq, "stuck")
    assert (alarm.poll_once(), state(), alarm.poll_once()) == (1, "ALARM", 0)
    message = sqs.receive_message(QueueUrl=dlq)["Messages"][0]
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
    assert (alarm.poll_once(), state()) == (1, "OK")


# --- what the sandbox seeds and shows


def test_seeded_secrets_have_each_providers_format():
    import base64
    import binascii

    from webhookctl.tryit.sandbox import secrets_table, seed_secrets

    document = seed_secrets("http://127.0.0.1:8765/webhook/")
    assert sorted(document) == ["adyen", "checkout", "github", "paddle", "razorpay", "square", "standard",
                                "stripe"]
    assert document["square"].options == {"notificationUrl": "http://127.0.0.1:8765/webhook/square"}
    newest = {provider: entry.secrets[0] for provider, entry in document.items()}
    assert newest["stripe"].startswith("whsec_") and newest["paddle"].startswith("pdl_ntfset_")
    assert len(base64.b64decode(newest["standard"].removeprefix("whsec_"))) == 24
    assert len(binascii.a2b_hex(newest["adyen"])) == 32
    assert secrets_table(document)[3] == ("square", newest["square"])


def test_tracker_summarises_a_webhook_when_it_reaches_a_final_status():
    from webhookctl.tryit.console import Tracker
    from webhookctl.tryit.gateway import Exchange

    shown = []
    tracker = Tracker(lambda kind, line: shown.append((kind, line)), clock=lambda: 100.5)
    tracker.exchange(Exchange("stripe", 200, b'{"received":true,"webhookId":"stripe#evt_1","duplicate":false}',
                              latency_ms=20.0, received_at=100.02,
                              headers=(("X-Webhookctl-Ids", "stripe#evt_1"), ("X-Webhookctl-Duplicate", "false"))))
    image = {"webhookId": {"S": "stripe#evt_1"}, "provider": {"S": "stripe"},
             "eventType": {"S": "charge.refunded"}}
    tracker.records([
        {"dynamodb": {"NewImage": {**image, "status": {"S": "ENQUEUED"}}, "OldImage": {**image, "status": {
            "S": "RECEIVED"}}}},
        {"dynamodb": {"NewImage": {**image, "status": {"S": "PROCESSED"}}, "OldImage": {**image, "status": {
            "S": "ENQUEUED"}}}},
    ])
    assert shown == [("http", "POST stripe -> 200 stripe#evt_1 (20.0 ms)"),
                     ("done", "stripe charge.refunded PROCESSED 500 ms")]


def test_environment_puts_back_what_was_there(monkeypatch):
    from webhookctl.tryit.sandbox import Environment

    monkeypatch.setenv("WH6_KEPT", "before")
    monkeypatch.delenv("WH6_NEW", raising=False)
    environment = Environment()
    environment.set({"WH6_KEPT": "during", "WH6_NEW": "x"})
    environment.set({"WH6_KEPT": None})
    environment.restore()
    import os

    assert (os.environ.get("WH6_KEPT"), os.environ.get("WH6_NEW")) == ("before", None)


def test_the_console_shows_what_reached_the_bus_in_major_units_and_marks_stale_events():
    from webhookctl.tryit.console import published_line

    item = {"publishedAt": {"S": "2026-12-03T10:00:00.000Z"}, "category": {"S": "payment_succeeded"},
            "provider": {"S": "stripe"}, "amount": {"N": "2000"}, "currency": {"S": "usd"},
            "paymentId": {"S": "pi_123"}, "stale": {"BOOL": False}}
    assert published_line(item) == "payment_succeeded stripe 20.00 USD pi_123"
    yen = {**item, "amount": {"N": "500"}, "currency": {"S": "JPY"}, "stale": {"BOOL": True}}
    assert published_line(yen).startswith("payment_succeeded stripe 500 JPY pi_123 (stale:")
    assert published_line({k: v for k, v in item.items() if k != "publishedAt"}) is None
