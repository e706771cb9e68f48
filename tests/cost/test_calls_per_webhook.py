"""AWS calls per webhook, counted through the sandbox: what each delivery costs the handlers, per operation.

Read from handlers/receiver.py and processor.py: a new event is 1 conditional PutItem, 1 SendMessage and 1
conditional UpdateItem (RECEIVED -> ENQUEUED) on the receiver, plus a Query and a tombstone PutItem for the
providers that sign no time (Adyen, GitHub); the processor reads it once (consistent GetItem), orders the
payment (1 UpdateItem on the payment record), marks it PROCESSED (1 UpdateItem) and publishes it in one
PutEvents per batch. A redelivery costs 1 PutItem (its condition fails) and nothing else; a forged signature
costs no AWS call at all.
"""

from __future__ import annotations

import pytest

from tests.bench import cost, sandboxrun

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def measured():
    return sandboxrun.measure(count=8, duplicates=4, forgeries=2, concurrency=4,
                              providers=("stripe", "adyen", "paddle", "github"), suffix="cost-test")


def handler_calls(phase, role: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in phase.calls:
        if call.origin == role:
            counts[cost.label(call)] = counts.get(cost.label(call), 0) + 1
    return counts


def test_receiver_calls_per_new_webhook(measured):
    calls = handler_calls(measured.phases["new"], "receiver")
    # The RECEIVED -> ENQUEUED mark is made once per event; its condition fails when the processor got the
    # message first and already finished the event (by design: the mark then has nothing left to say).
    marks = (calls.pop("dynamodb:UpdateItem (event, conditional)", 0)
             + calls.pop("dynamodb:UpdateItem (event, conditional, condition failed)", 0))
    assert marks == 8
    assert calls == {
        "dynamodb:PutItem (event, conditional)": 8,
        "sqs:SendMessage": 8,
        # adyen and github (4 of the 8) sign no time: a replay-guard Query and a tombstone each
        "dynamodb:Query (consistent)": 4,
        "dynamodb:PutItem (tombstone, unconditional)": 4,
    }


def test_processor_calls_per_new_webhook(measured):
    phase = measured.phases["new"]
    calls = handler_calls(phase, "processor")
    batches = sum(1 for i in phase.invocations if i.role == "processor")
    assert calls["dynamodb:GetItem (consistent)"] == 8
    assert calls["dynamodb:UpdateItem (event, conditional)"] == 8
    # at most one PutEvents per SQS batch (a batch holding only records another batch already finished
    # publishes nothing, so the count may fall short of the batches by those)
    assert 1 <= calls["events:PutEvents"] <= batches
    # one ordering write per event with a payment id: 7 of these 8 samples carry one (the processor skips ordering
    # an event that normalises to none); every payment id is fresh, so none is stale (no second, unconditional write)
    assert calls["dynamodb:UpdateItem (payment order, conditional)"] == 7
    assert set(calls) == {"dynamodb:GetItem (consistent)", "dynamodb:UpdateItem (event, conditional)",
                          "events:PutEvents", "dynamodb:UpdateItem (payment order, conditional)"}


def test_a_duplicate_costs_one_failed_put_and_no_message(measured):
    phase = measured.phases["duplicate"]
    assert handler_calls(phase, "receiver") == {
        "dynamodb:PutItem (event, conditional, condition failed)": 4,
        "dynamodb:Query (consistent)": 2,  # the tombstone providers' replay check
    }
    assert handler_calls(phase, "processor") == {}


def test_a_forged_signature_costs_no_aws_call(measured):
    phase = measured.phases["forged"]
    assert phase.statuses == {401: 2}
    assert handler_calls(phase, "receiver") == {}  # the secret is cached; a re-read waits 30 s


def test_no_handler_reads_the_secret_per_webhook(measured):
    assert not [c for p in measured.phases.values() for c in p.calls if c.service == "secretsmanager"]


def test_the_sandbox_calls_are_told_apart(measured):
    phase = measured.phases["new"]
    sandbox = {cost.label(c) for c in phase.calls if c.origin == cost.SANDBOX}
    assert "sqs:DeleteMessageBatch" in sandbox and "dynamodbstreams:GetRecords" in sandbox
    roles = {cost.sandbox_role(c)[0] for c in phase.calls if c.origin == cost.SANDBOX}
    assert "Lambda's SQS event source mapping" in roles and "Lambda's DynamoDB stream event source mapping" in roles


def test_usage_per_webhook(measured):
    usage = cost.measure_phase(measured.phases["new"], measured)
    assert usage.units["apigw_rest_request"] == 1
    # table writes: the event's put and two updates (~2 KB each), the payment record, tombstones, and GSI entries
    assert 4 <= usage.units["ddb_write_request_unit"] <= 20
    assert usage.detail["log_bytes"]["receiver"] > 0 and usage.detail["log_bytes"]["audit"] > 0
