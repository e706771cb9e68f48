"""dlq stats / peek / redrive / purge and alarms status against a moto server, through the CLI."""

from __future__ import annotations

import json

import pytest

from tests.ops.conftest import ALARMS, SUFFIX, contents, drain, fill, webhook_message

pytestmark = pytest.mark.slow


def poison(pipeline, message: dict) -> None:
    """Receive a message three times without deleting it, as a crashing processor would."""
    sqs = pipeline.sqs
    sqs.send_message(QueueUrl=pipeline.queue_url, **message)
    for _ in range(3):
        received = sqs.receive_message(QueueUrl=pipeline.queue_url, VisibilityTimeout=0)
        assert len(received.get("Messages", [])) == 1


def test_poison_message_reaches_the_dlq_after_three_receives(pipeline):
    # GIVEN a message received (and not deleted) three times
    poison(pipeline, webhook_message(1))
    # WHEN it is received a fourth time
    fourth = pipeline.sqs.receive_message(QueueUrl=pipeline.queue_url, VisibilityTimeout=0)
    # THEN SQS moved it to the DLQ with its body and attributes intact
    assert fourth.get("Messages", []) == []
    assert pipeline.counts(pipeline.queue_url) == (0, 0, 0)
    [dead] = drain(pipeline.sqs, pipeline.dlq_url)
    assert contents([dead]) == contents([{"Body": webhook_message(1)["MessageBody"],
                                          "MessageAttributes": webhook_message(1)["MessageAttributes"]}])


def test_dlq_alarm_then_redrive_then_green(pipeline):
    # GIVEN five poison messages on the DLQ and the DLQ alarm firing
    originals = [webhook_message(i, provider=("stripe", "adyen")[i % 2]) for i in range(5)]
    for message in originals:
        poison(pipeline, message)
        pipeline.sqs.receive_message(QueueUrl=pipeline.queue_url, VisibilityTimeout=0)
    assert pipeline.counts(pipeline.dlq_url) == (5, 0, 0)
    pipeline.cloudwatch.set_alarm_state(AlarmName=ALARMS["DlqDepthAlarmName"], StateValue="ALARM",
                                        StateReason="Threshold Crossed: 1 datapoint [5.0] >= 1.0")

    # WHEN alarms status runs THEN it shows the alarm with its reason and exits 1
    status = pipeline.invoke("alarms", "status", "--suffix", SUFFIX)
    assert status.exit_code == 1, status.output
    [dlq_line] = [line for line in status.stdout.splitlines() if line.startswith(ALARMS["DlqDepthAlarmName"])]
    assert dlq_line.split()[1] == "ALARM" and "Threshold Crossed" in dlq_line

    # WHEN redrive runs THEN SQS's message-move task (which the emulator implements) moves all five intact
    redrive = pipeline.invoke("dlq", "redrive", "--suffix", SUFFIX)
    assert redrive.exit_code == 0, redrive.output
    assert redrive.stderr == "move task COMPLETED: 5 of 5 moved\n"
    assert redrive.stdout == "moved 5, failed 0, skipped 0 (move task)\n"
    assert pipeline.counts(pipeline.dlq_url) == (0, 0, 0)
    assert contents(drain(pipeline.sqs, pipeline.queue_url)) == contents(
        [{"Body": m["MessageBody"], "MessageAttributes": m["MessageAttributes"]} for m in originals])

    # WHEN the alarm is back to OK THEN status exits 0
    pipeline.cloudwatch.set_alarm_state(AlarmName=ALARMS["DlqDepthAlarmName"], StateValue="OK",
                                        StateReason="Threshold no longer crossed")
    green = pipeline.invoke("alarms", "status", "--suffix", SUFFIX, "--format", "json")
    assert green.exit_code == 0, green.output
    assert {a["name"]: a["state"] for a in json.loads(green.stdout)["alarms"]} == {
        name: "OK" for name in ALARMS.values()}


def test_redrive_filter_moves_only_matching_and_leaves_the_rest_visible(pipeline):
    # GIVEN 13 stripe and 12 adyen messages on the DLQ
    fill(pipeline.sqs, pipeline.dlq_url, [webhook_message(i, ("stripe", "adyen")[i % 2]) for i in range(25)])
    # WHEN only adyen is redriven
    result = pipeline.invoke("dlq", "redrive", "--suffix", SUFFIX, "--provider", "adyen")
    # THEN the 12 adyen messages moved, the 13 stripe ones are still visible on the DLQ
    assert result.exit_code == 0, result.output
    assert result.stdout == "moved 12, failed 0, skipped 13 (client-side)\n"
    assert "cannot filter" in result.stderr
    assert pipeline.counts(pipeline.dlq_url) == (13, 0, 0)
    moved = drain(pipeline.sqs, pipeline.queue_url)
    assert {m["MessageAttributes"]["provider"]["StringValue"] for m in moved} == {"adyen"}


def test_redrive_event_type_filter_falls_back_to_the_json_body(pipeline):
    # GIVEN messages whose routing fields live only in the body (no message attributes)
    fill(pipeline.sqs, pipeline.dlq_url,
         [{"MessageBody": json.dumps({"webhookId": f"w{i}", "eventType": kind})}
          for i, kind in enumerate(["refund", "charge", "refund"])])
    # WHEN redriving one event type
    result = pipeline.invoke("dlq", "redrive", "--suffix", SUFFIX, "--event-type", "refund")
    # THEN only those moved
    assert result.stdout == "moved 2, failed 0, skipped 1 (client-side)\n"
    assert sorted(json.loads(m["Body"])["webhookId"] for m in drain(pipeline.sqs, pipeline.queue_url)) == [
        "w0", "w2"]


def test_redrive_dry_run_and_limit(pipeline):
    fill(pipeline.sqs, pipeline.dlq_url, [webhook_message(i) for i in range(15)])
    # WHEN dry-running THEN it counts everything and moves nothing
    dry = pipeline.invoke("dlq", "redrive", "--suffix", SUFFIX, "--dry-run")
    assert (dry.exit_code, dry.stdout) == (0, "would move 15, failed 0, skipped 0 (client-side)\n")
    assert pipeline.counts(pipeline.dlq_url) == (15, 0, 0)
    # WHEN limited to 7 THEN exactly 7 move
    limited = pipeline.invoke("dlq", "redrive", "--suffix", SUFFIX, "--limit", "7")
    assert (limited.exit_code, limited.stdout) == (0, "moved 7, failed 0, skipped 0 (client-side)\n")
    assert (pipeline.counts(pipeline.dlq_url), pipeline.counts(pipeline.queue_url)) == ((8, 0, 0), (7, 0, 0))


def test_peek_shows_routing_fields_only_and_consumes_nothing(pipeline):
    # GIVEN DLQ messages whose body carries more than the key (it must never be printed)
    for i in range(3):
        message = webhook_message(i, "square", "payment.updated")
        body = json.loads(message["MessageBody"]) | {"card": "4242424242424242"}
        pipeline.sqs.send_message(QueueUrl=pipeline.dlq_url, MessageBody=json.dumps(body),
                                  MessageAttributes=message["MessageAttributes"])
    # WHEN peeking (twice: the second must still see everything)
    first = pipeline.invoke("dlq", "peek", "--suffix", SUFFIX)
    second = pipeline.invoke("dlq", "peek", "--suffix", SUFFIX, "--format", "json")
    # THEN the fields are shown, the card number is not, and all messages are visible again at once
    assert first.exit_code == 0, first.output
    assert "4242" not in first.output and "4242" not in second.output
    rows = sorted(first.stdout.splitlines()[1:], key=lambda line: line.split()[3])
    assert [line.split()[3:] for line in rows] == [
        [f"evt_{i:04d}", "square", "payment.updated"] for i in range(3)]
    assert sorted((m["webhookId"], m["receiveCount"]) for m in json.loads(second.stdout)) == [
        ("evt_0000", 2), ("evt_0001", 2), ("evt_0002", 2)]
    assert pipeline.counts(pipeline.dlq_url) == (3, 0, 0)


def test_stats_counts_both_queues_and_says_where_the_age_came_from(pipeline):
    # GIVEN 2 visible + 1 delayed on the processing queue, 4 on the DLQ, one of them in flight
    fill(pipeline.sqs, pipeline.queue_url, [webhook_message(i) for i in range(2)])
    pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, DelaySeconds=60, **webhook_message(9))
    fill(pipeline.sqs, pipeline.dlq_url, [webhook_message(i) for i in range(4)])
    pipeline.sqs.receive_message(QueueUrl=pipeline.dlq_url, VisibilityTimeout=300)
    # WHEN
    result = pipeline.invoke("dlq", "stats", "--suffix", SUFFIX, "--format", "json")
    # THEN (moto publishes no SQS metrics: the DLQ age comes from a peek, the processing queue's is unknown)
    assert result.exit_code == 0, result.output
    stats = {s["role"]: s for s in json.loads(result.stdout)}
    assert {role: (s["visible"], s["inFlight"], s["delayed"], s["oldestAgeSource"])
            for role, s in stats.items()} == {"processing": (2, 0, 1, "unknown"), "dlq": (3, 1, 0, "peek")}
    assert 0 <= stats["dlq"]["oldestAgeSeconds"] < 60
    assert pipeline.counts(pipeline.dlq_url) == (3, 1, 0)


def test_purge_refuses_without_yes_then_purges_then_reports_purge_in_progress(pipeline):
    fill(pipeline.sqs, pipeline.dlq_url, [webhook_message(i) for i in range(3)])
    # WHEN no terminal and no --yes THEN nothing is deleted and the message says what to do
    refused = pipeline.invoke("dlq", "purge", "--suffix", SUFFIX)
    assert refused.exit_code == 1
    assert "pass --yes" in refused.stderr
    assert pipeline.counts(pipeline.dlq_url) == (3, 0, 0)
    # WHEN --yes THEN the DLQ is empty
    done = pipeline.invoke("dlq", "purge", "--suffix", SUFFIX, "--yes")
    assert done.exit_code == 0, done.output
    assert pipeline.counts(pipeline.dlq_url) == (0, 0, 0)
    # WHEN purged again within 60 s THEN a clear message, exit 1
    again = pipeline.invoke("dlq", "purge", "--suffix", SUFFIX, "--yes")
    assert again.exit_code == 1
    assert "already in progress (SQS allows one every 60 seconds)" in again.stderr


def test_purge_asks_in_a_terminal_and_declining_keeps_messages(pipeline):
    fill(pipeline.sqs, pipeline.dlq_url, [webhook_message(1)])
    declined = pipeline.invoke("dlq", "purge", "--suffix", SUFFIX, input="n\n", terminal=True)
    assert declined.exit_code == 1
    assert "Delete all ~1 messages" in declined.stderr
    assert pipeline.counts(pipeline.dlq_url) == (1, 0, 0)
