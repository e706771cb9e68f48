"""The sweeper Lambda with the real receiver and processor on moto: an event stored while SQS was down is
enqueued by the next sweep (not before its grace period), processed once, and counted in the metrics."""

from __future__ import annotations

import json
import time

import processor
import sweeper
from webhook_common import runtime

from .conftest import status_changes
from .test_requeue import WEBHOOK, stored_but_never_enqueued


def metric_line(output: str) -> dict:
    (line,) = [json.loads(x) for x in output.splitlines() if '"_aws"' in x]
    return line


def test_a_sweep_enqueues_what_the_receiver_stored_but_could_not_enqueue(aws, capsys):
    # GIVEN an event stored while SQS was down, whose provider never retried
    stored_but_never_enqueued(aws)
    capsys.readouterr()
    # WHEN the scheduled sweep runs inside the grace period, then after it
    early = sweeper.handler({}, None)
    early_metrics = metric_line(capsys.readouterr().out)
    late = sweeper.sweep(aws.dynamodb, aws.sqs, runtime.sweeper_config(), clock=lambda: time.time() + 600)
    late_metrics = metric_line(capsys.readouterr().out)
    # THEN the early sweep leaves it to its receiver but reports it waiting; the late one enqueues it
    assert (early["found"], early["enqueued"]) == (0, 0)
    assert (early_metrics["StuckEvents"], early_metrics["Stack"]) == (0, "payment-webhooks-test")
    assert (late["found"], late["enqueued"], late["failed"]) == (1, 1, 0)
    assert late_metrics["StuckEvents"] == 1 and late_metrics["OldestUnprocessedAgeSeconds"] == 0
    # ...and the processor completes it once
    assert processor.handler({"Records": aws.drain()}, None) == {"batchItemFailures": []}
    assert [change[2] for change in status_changes(aws) if change[0] == WEBHOOK] == [
        "RECEIVED", "ENQUEUED", "PROCESSED"]


def test_the_oldest_waiting_event_is_reported_by_age(aws, capsys):
    stored_but_never_enqueued(aws)
    capsys.readouterr()
    summary = sweeper.sweep(aws.dynamodb, aws.sqs, runtime.sweeper_config(), clock=lambda: time.time() + 60)
    # 60 s after it arrived, still inside the 120 s grace: not enqueued, and 60 s old
    assert summary["found"] == 0 and 59 <= summary["oldestPendingAgeSeconds"] <= 61
    assert 59 <= metric_line(capsys.readouterr().out)["OldestUnprocessedAgeSeconds"] <= 61


def test_an_empty_table_sweeps_to_zeros(aws, capsys):
    assert sweeper.handler({}, None) == {"found": 0, "enqueued": 0, "failed": 0, "oldestPendingAgeSeconds": 0}
    assert metric_line(capsys.readouterr().out)["OldestUnprocessedAgeSeconds"] == 0
