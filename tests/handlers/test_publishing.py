"""The processor publishes each webhook's canonical event to the bus once per processing, before marking
it PROCESSED; faults anywhere lose nothing and every repeat carries the same id; each payment's events are
ordered, out-of-order ones marked stale."""

from __future__ import annotations

import itertools
import json
import threading
from importlib.resources import files

import jsonschema
import processor
import pytest
import receiver
from botocore.exceptions import ClientError
from webhook_common import runtime

from .conftest import signed_event
from .samples import SAMPLES, _stripe
from .test_processor import sample_delivery

SCHEMA = json.loads((files("webhookctl.handlers.webhook_common.contract") / "payment_event.schema.json").read_text())


def deliver(aws, event: dict) -> str:
    response = receiver.handler(event, None)
    assert response["statusCode"] == 200, response
    return response["headers"]["X-Webhookctl-Ids"]


def process(aws, events=None, records=None) -> dict:
    records = aws.drain() if records is None else records
    return processor.process_batch(records, runtime.dynamodb(), events or runtime.events(),
                                   runtime.processor_config())


class CountingEvents:
    """The real (moto) EventBridge client, counting PutEvents calls and entries; `answers` can replace some."""

    def __init__(self, answers=None):
        self.calls, self.answers = [], list(answers or [])

    def put_events(self, **kwargs):
        self.calls.append(kwargs["Entries"])
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer(kwargs["Entries"]) if callable(answer) else answer
        return runtime.events().put_events(**kwargs)


# --- the event contract --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.expected], ids=lambda s: s.name)
def test_every_providers_sample_is_published_once_and_matches_the_schema(aws, sample):
    webhook_id = deliver(aws, sample_delivery(sample))
    assert process(aws) == {"batchItemFailures": []}
    [event] = aws.published()
    jsonschema.validate(event["detail"], SCHEMA, format_checker=jsonschema.FormatChecker())
    assert (event["source"], event["detailType"]) == (f"webhookctl.{sample.provider}", sample.expected.category)
    assert (event["detail"]["webhookId"], event["detail"]["amount"], event["detail"]["replay"]) == (
        webhook_id, sample.expected.amount, False)
    assert "payload" not in event["detail"]
    item = aws.item(webhook_id)
    assert item["publishedAt"]["S"] and item["status"]["S"] == "PROCESSED"


def test_an_unmapped_event_is_ignored_and_not_published_unless_asked(aws, monkeypatch):
    ping = next(s for s in SAMPLES if s.expected is None and s.provider == "github")
    deliver(aws, sample_delivery(ping))
    process(aws)
    assert aws.published() == [] and aws.items()[0]["status"]["S"] == "IGNORED"
    monkeypatch.setenv("PUBLISH_IGNORED", "true")
    runtime.reset()
    other = next(s for s in SAMPLES if s.expected is None and s.provider == "stripe")
    deliver(aws, sample_delivery(other))
    process(aws)
    [event] = aws.published()
    assert (event["detailType"], event["detail"]["amount"]) == ("other", None)


# --- batching and partial failures ---------------------------------------------------------------------------


def stripe_event(n: int, created: int = 1680064028, payment: str | None = None, kind: str = "payment_intent.succeeded"):
    obj = {"id": payment or f"pi_{n}", "object": "payment_intent", "amount": 100 + n, "amount_received": 100 + n,
           "amount_refunded": 100 + n, "currency": "usd", "payment_intent": payment or f"pi_{n}"}
    return signed_event("stripe", {**_stripe(f"evt_{n:04d}", kind, obj), "created": created})


def test_a_batch_of_ten_is_one_put_events(aws):
    for n in range(10):
        deliver(aws, stripe_event(n))
    events = CountingEvents()
    assert process(aws, events) == {"batchItemFailures": []}
    assert [len(call) for call in events.calls] == [10]
    assert len(aws.published()) == 10


def test_an_entry_eventbridge_refuses_fails_only_its_own_record(aws, capsys):
    ids = [deliver(aws, stripe_event(n)) for n in range(3)]
    records = aws.drain()

    def second_throttled(entries):
        throttled = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
        return {"FailedEntryCount": 1, "Entries": [{"EventId": "e0"}, throttled, {"EventId": "e2"}]}

    response = process(aws, CountingEvents([second_throttled]), records)
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}
    assert [aws.item(i)["status"]["S"] for i in ids] == ["PROCESSED", "ENQUEUED", "PROCESSED"]
    assert "publishedAt" not in aws.item(ids[1])
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(line.get("PublishFailed") == 1 and "_aws" in line for line in logged)  # the alarm's metric
    # WHEN SQS redelivers it THEN it is published and finished
    assert process(aws, records=[records[1]]) == {"batchItemFailures": []}
    assert aws.item(ids[1])["status"]["S"] == "PROCESSED"


def test_put_events_failing_outright_fails_every_record_it_carried(aws):
    for n in range(2):
        deliver(aws, stripe_event(n))
    records = aws.drain()
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutEvents")
    response = process(aws, CountingEvents([throttled]), records)
    assert response == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
    assert {i["status"]["S"] for i in aws.items()} == {"ENQUEUED"}


def test_a_crash_between_publishing_and_marking_republishes_under_the_same_id(aws):
    # GIVEN a record whose mark fails after the event went out
    webhook_id = deliver(aws, stripe_event(1))
    records = aws.drain()

    class MarkFails:
        def __getattr__(self, name):
            return getattr(runtime.dynamodb(), name)

        def update_item(self, **kwargs):
            if "publishedAt" in kwargs["UpdateExpression"]:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "UpdateItem")
            return runtime.dynamodb().update_item(**kwargs)

    first = processor.process_batch(records, MarkFails(), runtime.events(), runtime.processor_config())
    assert first == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}
    # WHEN SQS redelivers it
    assert process(aws, records=records) == {"batchItemFailures": []}
    # THEN nothing is lost, and the repeat carries the same id (consumers deduplicate on it)
    published = [e["detail"]["webhookId"] for e in aws.published()]
    assert published == [webhook_id, webhook_id]
    assert aws.item(webhook_id)["status"]["S"] == "PROCESSED"


@pytest.mark.parametrize("fault", ["get_item", "put_events", "update_item"])
def test_with_a_fault_at_any_step_every_event_ends_processed_and_published(aws, fault):
    ids = [deliver(aws, stripe_event(n)) for n in range(4)]
    records = aws.drain()
    failed_once: set[str] = set()

    class Faulty:
        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            method = getattr(self.real, name)
            if name != fault:
                return method

            def once(**kwargs):
                if name not in failed_once:
                    failed_once.add(name)
                    raise ClientError({"Error": {"Code": "InternalFailure", "Message": "x"}}, name)
                return method(**kwargs)

            return once

    response = processor.process_batch(records, Faulty(runtime.dynamodb()), Faulty(runtime.events()),
                                       runtime.processor_config())
    retry = [r for r in records if {"itemIdentifier": r["messageId"]} in response["batchItemFailures"]]
    assert retry  # the fault failed something
    assert process(aws, records=retry) == {"batchItemFailures": []}
    assert {aws.item(i)["status"]["S"] for i in ids} == {"PROCESSED"}
    published = [e["detail"]["webhookId"] for e in aws.published()]
    assert set(published) == set(ids)  # none lost; repeats, if any, carry the same ids


# --- ordering per payment ------------------------------------------------------------------------------------

LIFECYCLE = [("payment_intent.succeeded", 100), ("charge.refunded", 200), ("charge.dispute.created", 300)]


def lifecycle_events():
    return [stripe_event(n, created=1_700_000_000 + t, payment="pi_life", kind=kind)
            for n, (kind, t) in enumerate(LIFECYCLE)]


@pytest.mark.parametrize("permutation", list(itertools.permutations(range(3))), ids=str)
def test_every_order_of_a_payments_lifecycle_ends_in_one_latest_state(aws, permutation):
    events = lifecycle_events()
    ids = []
    for index in permutation:  # delivered and processed one by one, in this order
        ids.append(deliver(aws, events[index]))
        assert process(aws) == {"batchItemFailures": []}
    published = {e["detail"]["webhookId"]: e["detail"] for e in aws.published()}
    latest = "stripe#evt_0002"  # the dispute, the lifecycle's last event
    [payment] = aws.payments()
    assert (payment["latestWebhookId"]["S"], set(payment["webhookIds"]["SS"])) == (latest, set(published))
    assert published[latest]["stale"] is False
    # an event is stale exactly when a later one of the payment had been processed before it
    for position, index in enumerate(permutation):
        stale = any(earlier > index for earlier in permutation[:position])
        assert published[f"stripe#evt_{index:04d}"]["stale"] is stale
        assert aws.item(f"stripe#evt_{index:04d}")["stale"]["BOOL"] is stale


def test_concurrent_deliveries_of_a_payments_events_cannot_corrupt_its_order(aws):
    events = [stripe_event(n, created=1_700_000_000 + n, payment="pi_race") for n in range(12)]
    for event in events:
        deliver(aws, event)
    records = aws.drain()
    threads = [threading.Thread(target=process, args=(aws,), kwargs={"records": [r]}) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [payment] = aws.payments()
    assert payment["latestWebhookId"]["S"] == "stripe#evt_0011"
    published = {e["detail"]["webhookId"]: e["detail"]["stale"] for e in aws.published()}
    assert len(published) == 12 and published["stripe#evt_0011"] is False
