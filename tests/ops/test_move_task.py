"""SQS's message-move task: start, progress, cancel and failure with botocore's Stubber (states the emulator's
synchronous task never shows), and the whole command against the emulator, which implements the calls."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from tests.ops.conftest import (
    FAKE_CREDENTIALS,
    REGION,
    SUFFIX,
    contents,
    drain,
    fill,
    stubbed_cloudformation,
    webhook_message,
)
from webhookctl.cli import cli
from webhookctl.edge.aws import AwsClients
from webhookctl.edge.clock import Clock
from webhookctl.edge.context import AppContext
from webhookctl.operate.redrive import (
    MoveTaskBusy,
    MoveTaskCancelled,
    MoveTaskFailed,
    MoveTaskUnsupported,
    move_task_redrive,
)

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:webhook-dlq-ops"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:webhook-processing-ops"
LIST = {"SourceArn": DLQ_ARN, "MaxResults": 1}


def task(status, moved, started=1767225600000, handle=None, **extra):
    entry = {"Status": status, "SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN, "StartedTimestamp": started,
             "ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": 10, **extra}
    return entry | ({"TaskHandle": handle} if handle else {})


@pytest.fixture
def sqs():
    client = boto3.client("sqs", region_name=REGION, **FAKE_CREDENTIALS)
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def expect_start(sqs, earlier=None, rate=None):
    sqs.stubber.add_response("list_message_move_tasks", {"Results": [earlier] if earlier else []}, LIST)
    request = {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN} | (
        {"MaxNumberOfMessagesPerSecond": rate} if rate else {})
    sqs.stubber.add_response("start_message_move_task", {"TaskHandle": "handle-1"}, request)


def test_move_task_reports_progress_until_completed(sqs):
    # GIVEN an earlier completed task, then ours: not listed yet, running, completed
    earlier = task("COMPLETED", 3, started=1)
    expect_start(sqs, earlier, rate=50)
    for listed in (earlier, task("RUNNING", 4, handle="handle-1"), task("COMPLETED", 10)):
        sqs.stubber.add_response("list_message_move_tasks", {"Results": [listed]}, LIST)
    progress, slept = [], []
    # WHEN
    result = move_task_redrive(sqs, DLQ_ARN, QUEUE_ARN, rate=50, sleep=slept.append, poll_seconds=5,
                               on_progress=progress.append)
    # THEN the old task is ignored, progress is reported, and the result counts what moved
    assert [(p.status, p.moved, p.to_move) for p in progress] == [("RUNNING", 4, 10), ("COMPLETED", 10, 10)]
    assert slept == [5, 5]
    assert (result.mode, result.moved, result.failed, result.exit_code) == ("move task", 10, 0, 0)


def test_failed_task_reports_its_failure_reason(sqs):
    # GIVEN a task that fails before it is ever seen running
    expect_start(sqs)
    sqs.stubber.add_response("list_message_move_tasks", {"Results": [task(
        "FAILED", 2, FailureReason="AWS.SimpleQueueService.KmsAccessDenied: kms:GenerateDataKey denied")]}, LIST)
    # WHEN / THEN
    with pytest.raises(MoveTaskFailed) as failed:
        move_task_redrive(sqs, DLQ_ARN, QUEUE_ARN, sleep=lambda s: None)
    assert str(failed.value) == (
        "the message-move task failed after moving about 2 messages: AWS.SimpleQueueService.KmsAccessDenied: "
        "kms:GenerateDataKey denied; fix that, then run `webhookctl dlq redrive` again (or add --client-side)")
    assert failed.value.exit_code == 1


def test_ctrl_c_cancels_the_task(sqs):
    # GIVEN a running task and the user pressing Ctrl-C while we wait
    expect_start(sqs)
    sqs.stubber.add_response("list_message_move_tasks", {"Results": [task("RUNNING", 1, handle="handle-1")]}, LIST)
    sqs.stubber.add_response("cancel_message_move_task", {"ApproximateNumberOfMessagesMoved": 4},
                             {"TaskHandle": "handle-1"})

    def interrupt(seconds):
        raise KeyboardInterrupt

    # WHEN / THEN the task is cancelled and the message says what stays where
    with pytest.raises(MoveTaskCancelled, match="after about 4 messages: those stay on the processing queue"):
        move_task_redrive(sqs, DLQ_ARN, QUEUE_ARN, sleep=interrupt)


def test_refuses_while_another_task_runs(sqs):
    sqs.stubber.add_response("list_message_move_tasks", {"Results": [task("RUNNING", 1, handle="other")]}, LIST)
    with pytest.raises(MoveTaskBusy, match="already RUNNING .* --task-handle other`$"):
        move_task_redrive(sqs, DLQ_ARN, QUEUE_ARN)


@pytest.mark.parametrize("code, status", [("AccessDenied", 403), ("InternalFailure", 500)])
def test_access_denied_or_server_error_means_unsupported(sqs, code, status):
    sqs.stubber.add_client_error("list_message_move_tasks", code, "nope", http_status_code=status,
                                 expected_params=LIST)
    with pytest.raises(MoveTaskUnsupported):
        move_task_redrive(sqs, DLQ_ARN, QUEUE_ARN)


def test_not_implemented_means_unsupported():
    class UnpatchedInProcessMoto:  # what moto raises for the calls it lacks (the emulator's patches add them)
        def list_message_move_tasks(self, **kwargs):
            raise NotImplementedError("The list_message_move_tasks action has not been implemented")

    with pytest.raises(MoveTaskUnsupported, match="not implemented"):
        move_task_redrive(UnpatchedInProcessMoto(), DLQ_ARN, QUEUE_ARN)


def test_cli_uses_the_move_task_without_filters(sqs):
    # GIVEN a stack whose DLQ supports move tasks
    expect_start(sqs)
    sqs.stubber.add_response("list_message_move_tasks", {"Results": [task("COMPLETED", 10)]}, LIST)
    outputs = {"DeadLetterQueueArn": DLQ_ARN, "ProcessingQueueArn": QUEUE_ARN,
               "DeadLetterQueueUrl": "https://sqs/dlq", "ProcessingQueueUrl": "https://sqs/q"}
    app = AppContext(prepared_clients=AwsClients(cloudformation=stubbed_cloudformation(outputs, calls=1), sqs=sqs),
                     clock=Clock(sleep=lambda seconds: None))
    # WHEN
    result = CliRunner().invoke(cli, ["dlq", "redrive", "--suffix", SUFFIX], obj=app)
    # THEN
    assert result.exit_code == 0, result.output
    assert result.stdout == "moved 10, failed 0, skipped 0 (move task)\n"
    assert result.stderr == "move task COMPLETED: 10 of 10 moved\n"


@pytest.mark.slow
def test_cli_redrives_the_emulators_dlq_with_the_move_task(pipeline):
    # GIVEN fifteen webhook messages on the DLQ of a pipeline on the emulator
    originals = [webhook_message(i, provider=("stripe", "adyen")[i % 2]) for i in range(15)]
    fill(pipeline.sqs, pipeline.dlq_url, originals)
    # WHEN redrive runs with no filter, limit or dry run
    result = pipeline.invoke("dlq", "redrive", "--suffix", SUFFIX)
    # THEN SQS's move task did it (the emulator's is complete when StartMessageMoveTask returns) and moved
    # every message, body and attributes intact
    assert result.exit_code == 0, result.output
    assert result.stdout == "moved 15, failed 0, skipped 0 (move task)\n"
    assert result.stderr == "move task COMPLETED: 15 of 15 moved\n"
    assert pipeline.counts(pipeline.dlq_url) == (0, 0, 0)
    assert contents(drain(pipeline.sqs, pipeline.queue_url)) == contents(
        [{"Body": m["MessageBody"], "MessageAttributes": m["MessageAttributes"]} for m in originals])
