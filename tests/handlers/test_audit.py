"""The audit function: one redacted line per stream record, checkpointing at the first failure, and a
property test that no card number survives in any logged line."""

from __future__ import annotations

import json
import re

import audit
import processor
import pytest
import receiver
from boto3.dynamodb.types import TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_common.redact import luhn_valid, mask_text, redact

from .conftest import stream_records
from .samples import STRIPE_SUCCEEDED
from .test_card_data import pans_in
from .test_receiver import sample_event

SERIALIZER = TypeSerializer()


# Card numbers a reader of the line would see: test_card_data's independent checker.
card_runs = card_windows = pans_in


def stream_record(
    new: dict | None, old: dict | None = None, sequence: str = "111100000000000000000001", name: str = "MODIFY"
) -> dict:
    image = new or old
    keys = {k: SERIALIZER.serialize(image[k]) for k in ("webhookId", "timestamp")}
    stream = {
        "ApproximateCreationDateTime": 1700000000.0,
        "Keys": keys,
        "SequenceNumber": sequence,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        stream["NewImage"] = {k: SERIALIZER.serialize(v) for k, v in new.items()}
    if old is not None:
        stream["OldImage"] = {k: SERIALIZER.serialize(v) for k, v in old.items()}
    return {
        "eventID": "1",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": stream,
    }


ITEM = {
    "webhookId": "stripe#evt_1",
    "timestamp": "event",
    "provider": "stripe",
    "eventId": "evt_1",
    "eventType": "payment_intent.succeeded",
    "status": "ENQUEUED",
    "receivedAt": "2024-01-01T00:00:00.000Z",
    "payload": json.dumps({"card": {"number": "4242424242424242", "cvc": "123"}}),
    "expiresAt": 1711929600,
}


# --- masking ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("4111111111111111", "411111******1111"),
        ("card 4111 1111 1111 1111 exp", "card 411111******1111 exp"),
        ("4111-1111-1111-1111", "411111******1111"),
        ("378282246310005", "378282*****0005"),  # Amex, 15 digits
        ("6011111111111117", "601111******1117"),
        ("4111111111111111 22", "411111********1122"),  # a PAN next to more digits is still caught
        ("12 4111-1111-1111-1111", "124111********1111"),
        ("90000000000000004111111111111111", "900000**********************1111"),  # glued into a long number
        ("4111111111111112", "4111111111111112"),  # fails Luhn: not a card number
        ("8535296650153318", "8535296650153318"),  # a 16-digit reference that fails Luhn stays readable
        ("order 123456789012", "order 123456789012"),  # 12 digits
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("4111\n1111\t1111 1111", "411111******1111"),
    ],
)
def test_card_numbers_are_masked_to_first_6_last_4(text, masked):
    assert mask_text(text) == masked


def test_sensitive_keys_are_dropped_and_numbers_masked_at_any_depth():
    value = {
        "card": {
            "card_number": "x",
            "CVC": "123",
            "cvv2": "1",
            "PAN": "p",
            "brand": "visa",
            "last4": 4242,
            "raw": 4111111111111111,
        },
        "items": [{"pin": "0000", "note": "pay 5555 5555 5555 4444"}],
        "payload": "raw",
        "amount": 1500,
    }
    assert redact(value) == {
        "card": {"brand": "visa", "last4": 4242, "raw": "411111******1111"},
        "items": [{"note": "pay 555555******4444"}],
        "amount": 1500,
    }


# --- lines ----------------------------------------------------------------------------------------------------


def test_each_record_becomes_one_redacted_line():
    # GIVEN a status change whose item carries a payload with a card number and a CVC
    old, new = (
        ITEM,
        {
            **ITEM,
            "status": "PROCESSED",
            "processedAt": "2024-01-01T00:00:01.000Z",
            "category": "payment_succeeded",
            "amount": 2000,
            "currency": "USD",
            "paymentId": "pi_1",
        },
    )
    lines: list[str] = []
    # WHEN audited
    response = audit.audit_batch([stream_record(new, old)], lines.append)
    # THEN one line, with the change and the attributes, and without the payload
    assert response == {"batchItemFailures": []}
    [line] = lines
    assert json.loads(line) == {
        "level": "INFO",
        "message": "audit",
        "eventName": "MODIFY",
        "webhookId": "stripe#evt_1",
        "timestamp": "event",
        "provider": "stripe",
        "oldStatus": "ENQUEUED",
        "newStatus": "PROCESSED",
        "changed": ["amount", "category", "currency", "paymentId", "processedAt", "status"],
        "sequenceNumber": "111100000000000000000001",
        "approximateCreationTime": "2023-11-14T22:13:20Z",
        "attributes": {  # a MODIFY carries only what changed (its INSERT carried the rest)
            "processedAt": "2024-01-01T00:00:01.000Z",
            "category": "payment_succeeded",
            "amount": 2000,
            "currency": "USD",
            "paymentId": "pi_1",
        },
    }
    assert "4242" not in line and "cvc" not in line


def test_insert_and_remove_lines_carry_the_whole_item_and_modifies_rebuild_it():
    # GIVEN an item's life: inserted, modified twice, expired
    received, enqueued = {**ITEM, "status": "RECEIVED"}, ITEM
    processed = {**enqueued, "status": "PROCESSED", "processedAt": "2024-01-01T00:00:01.000Z", "amount": 2000}
    records = [stream_record(received, name="INSERT", sequence="1"), stream_record(enqueued, received, "2"),
               stream_record(processed, enqueued, "3"), stream_record(None, processed, "4", "REMOVE")]
    lines: list[str] = []
    audit.audit_batch(records, lines.append)
    inserted, *modified, removed = (json.loads(line) for line in lines)
    # THEN replaying the MODIFY lines' attributes over the INSERT's gives the REMOVE's: every version is in the log
    rebuilt = dict(inserted["attributes"])
    for line in modified:
        rebuilt.update(line["attributes"])
    assert rebuilt == removed["attributes"] and "payload" not in rebuilt
    assert all(set(line["attributes"]) <= set(line["changed"]) for line in modified)


def test_insert_and_remove_lines_have_one_side_empty():
    lines: list[str] = []
    audit.audit_batch([stream_record(ITEM, name="INSERT"), stream_record(None, ITEM, "2", "REMOVE")], lines.append)
    changes = [(json.loads(x)["eventName"], json.loads(x)["oldStatus"], json.loads(x)["newStatus"]) for x in lines]
    assert changes == [("INSERT", None, "ENQUEUED"), ("REMOVE", "ENQUEUED", None)]


def test_first_failing_record_is_the_checkpoint_and_later_records_wait():
    # GIVEN three records, the second with an attribute value DynamoDB's type system cannot decode
    good = stream_record(ITEM, sequence="100")
    broken = stream_record(ITEM, sequence="200")
    broken["dynamodb"]["NewImage"]["status"] = {"XX": "not a type"}
    later = stream_record(ITEM, sequence="300")
    lines: list[str] = []
    # WHEN audited
    response = audit.audit_batch([good, broken, later], lines.append)
    # THEN only the first is logged, and Lambda is told to resume at the broken one
    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert [json.loads(x)["sequenceNumber"] for x in lines] == ["100"]


def test_record_without_sequence_number_fails_the_batch():
    record = stream_record(ITEM)
    del record["dynamodb"]["SequenceNumber"]
    with pytest.raises(KeyError):
        audit.audit_batch([record], lambda line: None)


def test_handler_prints_one_json_line_per_record(capsys):
    assert audit.handler({"Records": [stream_record(ITEM), stream_record(ITEM, sequence="2")]}, None) == {
        "batchItemFailures": []
    }
    assert [json.loads(x)["message"] for x in capsys.readouterr().out.splitlines()] == ["audit", "audit"]


def test_real_stream_of_a_webhook_is_audited_without_payload(aws, capsys):
    # GIVEN a webhook that went through the receiver and the processor, and the table's stream records
    payload = {**STRIPE_SUCCEEDED, "metadata": {"note": "card 4000 0566 5566 5556", "cvc": "314"}}
    from .conftest import signed_event

    receiver.handler(signed_event("stripe", payload), None)
    processor.handler({"Records": aws.drain()}, None)
    records = stream_records(aws)
    capsys.readouterr()
    # WHEN the audit function gets them
    assert audit.handler({"Records": records}, None) == {"batchItemFailures": []}
    # THEN one line per write, RECEIVED -> ENQUEUED -> PROCESSED (the payment's ordering record has lines of
    # its own), and none carries the payload
    lines = [x for x in capsys.readouterr().out.splitlines() if json.loads(x)["webhookId"].startswith("stripe#")]
    assert [(json.loads(x)["oldStatus"], json.loads(x)["newStatus"]) for x in lines] == [
        (None, "RECEIVED"),
        ("RECEIVED", "ENQUEUED"),
        ("ENQUEUED", "PROCESSED"),
    ]
    assert not any("payment_method_types" in x or "5556" in x or "314" in x for x in lines)


def test_audit_of_a_sample_delivery_has_no_card_numbers(aws, capsys):
    receiver.handler(sample_event("square"), None)
    processor.handler({"Records": aws.drain()}, None)
    capsys.readouterr()
    audit.handler({"Records": stream_records(aws)}, None)
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["newStatus"] for x in lines if x["timestamp"] == "event"] == ["RECEIVED", "ENQUEUED", "PROCESSED"]
    for line in lines:
        del line["sequenceNumber"]
        assert card_windows(json.dumps(line, ensure_ascii=False)) == []


# --- property: no card number survives, whatever the shape ------------------------------------------------


@st.composite
def card_numbers(draw) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    digits = body + check
    separator = draw(st.sampled_from(["", " ", "-"]))
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return separator.join(groups) if separator else digits


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
PIECES = st.one_of(TEXT, card_numbers(), st.text("0123456789 -", max_size=8))
STRINGS = st.lists(PIECES, max_size=5).map("".join)
NUMBERS = st.one_of(st.integers(-(10**20), 10**20), card_numbers().map(lambda s: int(re.sub(r"[ -]", "", s))))
VALUES = st.recursive(
    st.one_of(STRINGS, NUMBERS, st.booleans(), st.none()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(STRINGS, children, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.dictionaries(STRINGS.filter(lambda k: k not in ITEM), VALUES, max_size=4),
    webhook_suffix=STRINGS,
    status=STRINGS,
)
def test_no_card_number_survives_in_any_logged_line(extra, webhook_suffix, status):
    # GIVEN an item of any shape, with card numbers anywhere: keys, values, nested, numbers, its own key
    new = {**ITEM, **extra, "webhookId": "stripe#" + webhook_suffix, "status": status or "PROCESSED"}
    old = {**ITEM, "webhookId": new["webhookId"]}
    lines: list[str] = []
    # WHEN audited
    assert audit.audit_batch([stream_record(new, old)], lines.append) == {"batchItemFailures": []}
    # THEN no card number is readable in any key or value of the line, outside AWS's own sequence number
    # (values, not the line: JSON's own commas between two list numbers would read as one comma-spelled run)
    [line] = lines
    logged = json.loads(line)
    del logged["sequenceNumber"]
    assert [text for text in texts(logged) if card_windows(text)] == []


def texts(value) -> list[str]:
    """Every key and scalar of a parsed JSON value, as text."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (str(k), *texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def test_the_property_checkers_do_find_card_numbers():
    # the property above can fail: unredacted, these lines are flagged
    assert card_runs('{"note":"4111 1111 1111 1111"}') == ["4111111111111111"]
    assert card_windows('{"n":"12 4111-1111-1111-1111"}') == ["4111111111111111"]
    assert card_windows('{"n":90000000000000004111111111111111}') != []
