"""SQS's message-move task on the emulator (moto lacks it; webhookctl/tryit/emulator/sqs.py adds it), following
AWS: the source must be a DLQ, no DestinationArn means back to each message's source queue, one active task per
queue. The emulator moves within StartMessageMoveTask, so a listed task is already COMPLETED."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION

pytestmark = pytest.mark.slow


@pytest.fixture
def sqs(clean_emulator: Any) -> Any:
    """No retries: an error surfaces at once."""
    return boto3.client("sqs", endpoint_url=clean_emulator.url, region_name=REGION,
                        config=Config(retries={"mode": "standard", "max_attempts": 1}))


def arn_of(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@pytest.fixture
def queues(sqs: Any) -> Callable[..., tuple[str, ...]]:
    """make("dlq", "a", "b"): the DLQ, then source queues redriving to it after one receive; their URLs."""
    def make(dlq: str, *sources: str) -> tuple[str, ...]:
        dlq_url = sqs.create_queue(QueueName=dlq)["QueueUrl"]
        redrive = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq_url), "maxReceiveCount": 1})
        return (dlq_url, *(sqs.create_queue(QueueName=s, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
                           for s in sources))
    return make


def message(index: int) -> dict[str, Any]:
    return {"MessageBody": json.dumps({"webhookId": f"evt_{index}"}),
            "MessageAttributes": {"provider": {"DataType": "String", "StringValue": f"p{index}"}}}


def dead_letter(sqs: Any, source_url: str, *indexes: int) -> list[str]:
    """Send the messages to the source queue and receive them past maxReceiveCount: SQS moves them to the DLQ."""
    ids = [sqs.send_message(QueueUrl=source_url, **message(i))["MessageId"] for i in indexes]
    first = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert len(first["Messages"]) == len(indexes)
    assert "Messages" not in sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return ids


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message on the queue (hidden for 10 minutes: each test throws its queues away)."""
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                       MessageAttributeNames=["All"]).get("Messages", []):
        found += batch
    return found


def contents(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((m["Body"], m["MessageAttributes"]["provider"]["StringValue"]) for m in messages)


def tasks(sqs: Any, dlq_url: str, most: int = 10) -> list[dict[str, Any]]:
    return sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq_url), MaxResults=most)["Results"]


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_move_to_a_destination_makes_new_messages_with_the_same_body_and_attributes(sqs, queues):
    # GIVEN three messages dead-lettered from the processing queue, and an empty target queue
    dlq, source = queues("dlq", "processing")
    old_ids = dead_letter(sqs, source, 1, 2, 3)
    target = sqs.create_queue(QueueName="target")["QueueUrl"]
    # WHEN a task moves the DLQ to the target
    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), DestinationArn=arn_of(sqs, target),
                                         MaxNumberOfMessagesPerSecond=50)["TaskHandle"]
    # THEN they are new messages on the target with body and attributes intact, and the DLQ is empty
    moved = received(sqs, target)
    assert contents(moved) == contents([{"Body": message(i)["MessageBody"], "MessageAttributes":
                                         message(i)["MessageAttributes"]} for i in (1, 2, 3)])
    assert not {m["MessageId"] for m in moved} & set(old_ids)
    assert received(sqs, dlq) == [] and received(sqs, source) == []
    # AND the task is listed COMPLETED with its counts, its echoed settings, and (no longer running) no handle
    [task] = tasks(sqs, dlq)
    assert handle and task.pop("StartedTimestamp") > 0
    assert task == {"Status": "COMPLETED", "SourceArn": arn_of(sqs, dlq), "DestinationArn": arn_of(sqs, target),
                    "MaxNumberOfMessagesPerSecond": 50, "ApproximateNumberOfMessagesMoved": 3,
                    "ApproximateNumberOfMessagesToMove": 3}


def test_without_a_destination_each_message_goes_back_to_its_own_source_queue(sqs, queues):
    # GIVEN one DLQ fed by two queues
    dlq, first, second = queues("dlq", "first", "second")
    dead_letter(sqs, first, 1, 2)
    dead_letter(sqs, second, 3)
    # WHEN a task runs without DestinationArn
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    # THEN every message is back where it was dead-lettered from, and the listing has no DestinationArn
    assert [m["Body"] for m in received(sqs, first)] == [message(i)["MessageBody"] for i in (1, 2)]
    assert [m["Body"] for m in received(sqs, second)] == [message(3)["MessageBody"]]
    [task] = tasks(sqs, dlq)
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"], "DestinationArn" in task) == (
        "COMPLETED", 3, False)


def test_a_message_whose_source_is_unknown_fails_the_task_and_stays(sqs, queues):
    # GIVEN a message sent straight to a DLQ that has two source queues
    dlq, _, _ = queues("dlq", "first", "second")
    sqs.send_message(QueueUrl=dlq, **message(1))
    # WHEN a task redrives to the source queues THEN it fails as AWS reports a missing queue
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    [task] = tasks(sqs, dlq)
    assert (task["Status"], task["FailureReason"], task["ApproximateNumberOfMessagesMoved"]) == (
        "FAILED", "AWS.SimpleQueueService.NonExistentQueue", 0)
    # AND the message is visible on the DLQ again at once
    assert [m["Body"] for m in received(sqs, dlq)] == [message(1)["MessageBody"]]


def test_tasks_are_listed_newest_first_and_a_new_one_may_start_once_the_last_ended(sqs, queues):
    dlq, source = queues("dlq", "processing")
    target = arn_of(sqs, sqs.create_queue(QueueName="target")["QueueUrl"])
    for index in (1, 2):
        dead_letter(sqs, source, index)
        sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), DestinationArn=target)
    listed = tasks(sqs, dlq)
    assert [t["ApproximateNumberOfMessagesMoved"] for t in listed] == [1, 1]
    assert listed[0]["StartedTimestamp"] > listed[1]["StartedTimestamp"]
    assert tasks(sqs, dlq, most=1) == listed[:1]  # MaxResults; AWS's default is 1 too
    assert sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"] == listed[:1]


def test_cancel_is_only_for_a_running_task(sqs, queues):
    # GIVEN a task that has completed (the emulator's tasks complete within StartMessageMoveTask)
    dlq, source = queues("dlq", "processing")
    dead_letter(sqs, source, 1)
    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))["TaskHandle"]
    # WHEN it is cancelled THEN AWS's answer for a handle of no running task; garbage is an invalid handle
    assert error_of(lambda: sqs.cancel_message_move_task(TaskHandle=handle)) == (
        "ResourceNotFoundException", "Task does not exist.")
    assert error_of(lambda: sqs.cancel_message_move_task(TaskHandle="not-a-handle")) == (
        "InvalidParameterValue", "Value for parameter TaskHandle is invalid.")


def test_start_validates_its_queues_as_aws_does(sqs, queues):
    dlq, source = queues("dlq", "processing")
    missing = arn_of(sqs, dlq).replace(":dlq", ":missing")
    assert error_of(lambda: sqs.start_message_move_task(SourceArn=arn_of(sqs, source))) == (
        "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    assert error_of(lambda: sqs.start_message_move_task(SourceArn=missing)) == (
        "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")
    assert error_of(lambda: sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), DestinationArn=missing)) == (
        "ResourceNotFoundException",
        "The resource that you specified for the DestinationArn parameter doesn't exist.")
    assert error_of(lambda: sqs.list_message_move_tasks(SourceArn=missing))[0] == "ResourceNotFoundException"
    assert tasks(sqs, dlq) == []
