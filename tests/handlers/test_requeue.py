"""`webhookctl requeue`'s service with the real receiver and processor: an event whose provider gave up
after a 500 (stored, never enqueued) is found, enqueued and processed once."""

from __future__ import annotations

import json
import time

import processor
import receiver
from botocore.exceptions import EndpointConnectionError
from webhook_common import runtime

from webhookctl.operate.requeue import StuckEvent, requeue, stuck_events

from .conftest import TABLE, status_changes
from .test_receiver import FailingOnce, answer, deps, sample_event

WEBHOOK = "stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF"


def stored_but_never_enqueued(aws) -> None:
    outage = EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com")
    status, _ = answer(receiver.receive(sample_event("stripe"),
                                        deps(aws, sqs=FailingOnce(runtime.sqs(), "send_message", outage))))
    assert status == 500 and aws.messages() == []


def test_a_stored_event_the_provider_gave_up_on_is_enqueued_and_processed_once(aws):
    # GIVEN an event stored while SQS was down, whose provider never retried
    stored_but_never_enqueued(aws)
    # WHEN stuck events stored before now are looked for (but not those before the event arrived)
    now_ms = int(time.time() * 1000) + 1000
    assert list(stuck_events(aws.dynamodb, TABLE, now_ms - 60_000)) == []
    (found,) = stuck_events(aws.dynamodb, TABLE, now_ms)
    assert (found.webhook_id, found.provider, found.event_type) == (WEBHOOK, "stripe", "payment_intent.succeeded")
    # ...and enqueued
    result = requeue(aws.sqs, aws.dynamodb, TABLE, aws.queue_url, [found])
    # THEN its key is on the queue as the receiver would have put it, and processing completes it once
    assert (result.enqueued, result.failed, result.exit_code) == (1, 0, 0)
    (message,) = aws.messages()
    assert json.loads(message["Body"]) == {"webhookId": WEBHOOK, "timestamp": "event"}
    assert message["MessageAttributes"]["provider"]["StringValue"] == "stripe"
    assert processor.handler({"Records": aws.drain()}, None) == {"batchItemFailures": []}
    assert status_changes(aws) == [(WEBHOOK, None, "RECEIVED"), (WEBHOOK, "RECEIVED", "ENQUEUED"),
                                   (WEBHOOK, "ENQUEUED", "PROCESSED")]
    assert list(stuck_events(aws.dynamodb, TABLE, now_ms)) == []


def test_requeueing_an_event_processed_meanwhile_changes_nothing(aws):
    # GIVEN a stuck event found, then processed by a late copy before the requeue marks it
    stored_but_never_enqueued(aws)
    (found,) = stuck_events(aws.dynamodb, TABLE, int(time.time() * 1000) + 1000)
    requeue(aws.sqs, aws.dynamodb, TABLE, aws.queue_url, [found])
    assert processor.handler({"Records": aws.drain()}, None) == {"batchItemFailures": []}
    # WHEN the same (stale) finding is requeued again
    result = requeue(aws.sqs, aws.dynamodb, TABLE, aws.queue_url, [found])
    # THEN the status stays PROCESSED and the extra copy is skipped by the processor
    assert result.enqueued == 1
    assert processor.handler({"Records": aws.drain()}, None) == {"batchItemFailures": []}
    assert aws.item(WEBHOOK)["status"]["S"] == "PROCESSED"
    assert [change[2] for change in status_changes(aws)] == ["RECEIVED", "ENQUEUED", "PROCESSED"]


def test_an_unmarked_event_type_is_still_a_valid_message_attribute(aws):
    event = StuckEvent(WEBHOOK, "event", "stripe", "", "2026-01-01T00:00:00.000Z")
    assert requeue(aws.sqs, aws.dynamodb, TABLE, aws.queue_url, [event]).enqueued == 1
    assert aws.messages()[0]["MessageAttributes"]["eventType"]["StringValue"] == "unknown"
