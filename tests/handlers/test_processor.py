"""The processor: normalisation of each provider's documented events, exact partial batch failures, and the
DLQ path against moto's redrive policy."""

from __future__ import annotations

import json
import uuid

import processor
import pytest
import receiver
from webhook_common import runtime
from webhook_common.normalise import Canonical, MalformedEvent
from webhook_common.providers import PROVIDERS

from .conftest import TABLE, sqs_record, status_changes
from .samples import SAMPLES, STRIPE_SUCCEEDED
from .test_receiver import sample_event, signed_event


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_documented_sample_normalises(sample):
    assert PROVIDERS[sample.provider].normalise(sample.payload, sample.event_type) == sample.expected


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({**STRIPE_SUCCEEDED, "data": {}}, "data.object"),
        ({**STRIPE_SUCCEEDED, "data": {"object": {"id": "pi_1", "currency": "usd"}}}, "amount"),
        ({**STRIPE_SUCCEEDED, "data": {"object": {"id": "pi_1", "amount_received": -5, "currency": "usd"}}}, "amount"),
        (
            {**STRIPE_SUCCEEDED, "data": {"object": {"id": "pi_1", "amount_received": 12.5, "currency": "usd"}}},
            "amount",
        ),
        (
            {**STRIPE_SUCCEEDED, "data": {"object": {"id": "pi_1", "amount_received": 5, "currency": "dollars"}}},
            "currency",
        ),
        ({**STRIPE_SUCCEEDED, "data": {"object": {"amount_received": 5, "currency": "usd"}}}, "payment id"),
    ],
)
def test_mapped_event_missing_what_the_provider_always_sends_is_malformed(payload, problem):
    with pytest.raises(MalformedEvent, match=problem):
        PROVIDERS["stripe"].normalise(payload, "payment_intent.succeeded")


def test_paddle_amount_strings_become_integers():
    sample = next(s for s in SAMPLES if s.provider == "paddle")
    assert PROVIDERS["paddle"].normalise(sample.payload, sample.event_type).amount == 65890


# --- through the table ---------------------------------------------------------------------------------------


def deliver(aws, event: dict) -> str:
    response = receiver.handler(event, None)
    assert response["statusCode"] == 200, response
    return response["headers"]["X-Webhookctl-Ids"]


def item_fields(item: dict) -> dict:
    wanted = ("status", "category", "amount", "currency", "paymentId", "occurredAt")
    return {k: next(iter(item[k].values())) for k in wanted if k in item}


def expected_fields(canonical: Canonical | None) -> dict:
    if canonical is None:
        return {"status": "IGNORED", "category": "other"}
    fields = {
        "status": "PROCESSED",
        "category": canonical.category,
        "amount": str(canonical.amount),
        "currency": canonical.currency,
        "paymentId": canonical.payment_id,
        "occurredAt": canonical.occurred_at,
    }
    return {k: v for k, v in fields.items() if v not in (None, "None")}


def sample_delivery(sample) -> dict:
    options = {
        "standard": {"msgId": (sample.headers or {}).get("webhook-id")},
        "github": {"event": (sample.headers or {}).get("x-github-event"),
                   "delivery": (sample.headers or {}).get("x-github-delivery")},
        "razorpay": {"eventId": (sample.headers or {}).get("x-razorpay-event-id")},
    }.get(sample.provider)
    return signed_event(sample.provider, sample.payload, options=options)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_sample_goes_from_receiver_to_a_canonical_item(aws, sample):
    # GIVEN a delivered sample event
    webhook_id = deliver(aws, sample_delivery(sample))
    # WHEN the processor takes the queued message
    assert processor.handler({"Records": aws.drain()}, None) == {"batchItemFailures": []}
    # THEN the item carries the canonical record and its final status
    item = aws.item(webhook_id)
    assert item_fields(item) == expected_fields(sample.expected)
    assert item["processedAt"]["S"].endswith("Z")


def message_for(webhook_id: str, timestamp: str = "event") -> dict:
    return sqs_record(
        {"MessageId": str(uuid.uuid4()), "Body": json.dumps({"webhookId": webhook_id, "timestamp": timestamp})}
    )


def store_raw_item(aws, webhook_id: str, payload: str, event_type: str = "payment_intent.succeeded") -> None:
    aws.dynamodb.put_item(
        TableName=TABLE,
        Item={
            "webhookId": {"S": webhook_id},
            "timestamp": {"S": "event"},
            "provider": {"S": "stripe"},
            "eventId": {"S": webhook_id.split("#")[1]},
            "eventType": {"S": event_type},
            "status": {"S": "ENQUEUED"},
            "receivedAt": {"S": "2024-01-01T00:00:00.000Z"},
            "payload": {"S": payload},
            "expiresAt": {"N": "1"},
        },
    )


def test_mixed_batch_reports_exactly_the_failed_messages(aws):
    # GIVEN a batch: good, the same key again, unknown type, missing item, body off-contract, malformed payload
    good_id = deliver(aws, sample_event("stripe"))
    unknown_id = deliver(aws, signed_event("stripe", {**STRIPE_SUCCEEDED, "id": "evt_cus", "type": "customer.created"}))
    store_raw_item(aws, "stripe#evt_bad", json.dumps({**STRIPE_SUCCEEDED, "id": "evt_bad", "data": {}}))
    aws.drain()
    good, duplicate, unknown = message_for(good_id), message_for(good_id), message_for(unknown_id)
    missing = message_for("stripe#evt_never_stored")
    off_contract = {**message_for(good_id), "body": "not json"}
    malformed = message_for("stripe#evt_bad")
    batch = [good, duplicate, missing, unknown, off_contract, malformed]
    # WHEN processed
    response = processor.handler({"Records": batch}, None)
    # THEN only the three that cannot be processed are failures, in batch order
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": missing["messageId"]},
            {"itemIdentifier": off_contract["messageId"]},
            {"itemIdentifier": malformed["messageId"]},
        ]
    }
    assert aws.item(good_id)["status"]["S"] == "PROCESSED"
    assert aws.item(unknown_id)["status"]["S"] == "IGNORED"
    assert aws.item("stripe#evt_bad")["status"]["S"] == "ENQUEUED"
    assert [c[2] for c in status_changes(aws) if c[0] == good_id].count("PROCESSED") == 1


def test_already_processed_item_is_skipped_without_a_write(aws):
    webhook_id = deliver(aws, sample_event("stripe"))
    aws.drain()
    assert processor.handler({"Records": [message_for(webhook_id)]}, None) == {"batchItemFailures": []}
    writes = len(status_changes(aws))
    assert processor.handler({"Records": [message_for(webhook_id)]}, None) == {"batchItemFailures": []}
    assert len(status_changes(aws)) == writes


def test_stored_payload_that_is_not_json_fails_the_record(aws):
    store_raw_item(aws, "stripe#evt_garbled", "{not json")
    record = message_for("stripe#evt_garbled")
    assert processor.handler({"Records": [record]}, None) == {
        "batchItemFailures": [{"itemIdentifier": record["messageId"]}]
    }


def test_a_failed_record_is_logged_with_its_webhook_id_and_receive_count(aws, capsys):
    store_raw_item(aws, "stripe#evt_garbled", "{not json")
    record = {**message_for("stripe#evt_garbled"), "attributes": {"ApproximateReceiveCount": "2"}}
    processor.handler({"Records": [record]}, None)
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"record failed"' in x]
    assert (line["level"], line["webhookId"], line["receiveCount"], line["messageId"]) == (
        "WARNING", "stripe#evt_garbled", "2", record["messageId"])


def test_aws_failure_fails_only_that_record(aws):
    class FlakyTable:
        calls = 0

        def __getattr__(self, name):
            return getattr(runtime.dynamodb(), name)

        def get_item(self, **kwargs):
            FlakyTable.calls += 1
            if FlakyTable.calls == 1:
                from botocore.exceptions import EndpointConnectionError

                raise EndpointConnectionError(endpoint_url="https://dynamodb")
            return runtime.dynamodb().get_item(**kwargs)

    first, second = (
        deliver(aws, sample_event("stripe")),
        deliver(aws, signed_event("stripe", {**STRIPE_SUCCEEDED, "id": "evt_2"})),
    )
    aws.drain()
    records = [message_for(first), message_for(second)]
    assert processor.process_batch(records, FlakyTable(), runtime.events(), runtime.processor_config()) == {
        "batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]
    }


def test_empty_batch(aws):
    assert processor.process_batch([], object(), object(), runtime.processor_config()) == {"batchItemFailures": []}


def test_poison_message_reaches_the_dlq_after_3_receives(aws):
    # GIVEN a message whose item does not exist, on the processing queue (redrive: maxReceiveCount 3)
    aws.sqs.send_message(
        QueueUrl=aws.queue_url,
        MessageBody=json.dumps({"webhookId": "stripe#evt_ghost", "timestamp": "event"}),
        MessageAttributes={
            "provider": {"DataType": "String", "StringValue": "stripe"},
            "eventType": {"DataType": "String", "StringValue": "payment_intent.succeeded"},
        },
    )
    receives = 0
    # WHEN Lambda's poller keeps receiving it and the processor keeps reporting it failed
    while messages := aws.sqs.receive_message(
        QueueUrl=aws.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
    ).get("Messages"):
        receives += 1
        response = processor.handler({"Records": [sqs_record(m) for m in messages]}, None)
        assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
        assert receives <= 3
    # THEN after the 3rd receive it is in the DLQ, intact
    [dead] = aws.messages(aws.dlq_url)
    assert receives == 3
    assert json.loads(dead["Body"]) == {"webhookId": "stripe#evt_ghost", "timestamp": "event"}
    assert dead["MessageAttributes"]["provider"]["StringValue"] == "stripe"


def test_event_without_its_own_time_takes_the_receipt_time(aws):
    payload = {"type": "invoice.paid", "data": {"id": "in_2", "amount": 500, "currency": "eur"}}
    webhook_id = deliver(aws, signed_event("standard", payload, options={"msgId": "msg_no_time"}))
    processor.handler({"Records": aws.drain()}, None)
    item = aws.item(webhook_id)
    assert item["occurredAt"]["S"] == item["receivedAt"]["S"]
    assert item_fields(item)["category"] == "payment_succeeded"
