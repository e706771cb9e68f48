"""The processor's per-provider metrics: one EMF line per provider per batch, parsed as CloudWatch Logs would."""

from __future__ import annotations

import json

import processor
from webhook_common import runtime
from webhook_common.contract import metrics as names

from .samples import STRIPE_SUCCEEDED

CONFIG = runtime.ProcessorConfig("PaymentWebhooks-test", "payment-events-test", False, "payment-webhooks-test")
RECEIVED = "2026-01-01T00:00:00.000Z"
NOW = 1767225600.25  # 250 ms after RECEIVED


class Table:
    """get_item answers from a dict of webhookId -> item; every write succeeds."""

    def __init__(self, items: dict[str, dict]) -> None:
        self.items = items

    def get_item(self, Key, **kwargs):  # noqa: N803 - boto3's own parameter name
        return {"Item": self.items.get(Key["webhookId"]["S"])}

    def update_item(self, **kwargs):
        return {}


class Bus:
    def put_events(self, Entries):  # noqa: N803
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(len(Entries))]}


def stored(webhook_id: str, provider: str = "stripe", payload: str | None = None) -> dict:
    return {"webhookId": {"S": webhook_id}, "timestamp": {"S": "event"}, "provider": {"S": provider},
            "eventType": {"S": "payment_intent.succeeded"}, "status": {"S": "ENQUEUED"},
            "receivedAt": {"S": RECEIVED}, "payload": {"S": payload or json.dumps(STRIPE_SUCCEEDED)}}


def record(webhook_id: str, n: int) -> dict:
    return {"messageId": f"m{n}", "body": json.dumps({"webhookId": webhook_id, "timestamp": "event"})}


def emf_lines(out: str) -> list[dict]:
    return [line for line in map(json.loads, filter(None, out.splitlines())) if "_aws" in line]


def run(capsys, items: dict[str, dict], ids: list[str]) -> tuple[dict, list[dict]]:
    capsys.readouterr()
    answer = processor.process_batch([record(i, n) for n, i in enumerate(ids)], Table(items), Bus(), CONFIG,
                                     clock=lambda: NOW)
    return answer, emf_lines(capsys.readouterr().out)


def test_one_line_per_provider_with_processed_failed_and_latency(capsys):
    items = {"stripe#a": stored("stripe#a"), "stripe#b": stored("stripe#b"),
             "stripe#bad": stored("stripe#bad", payload="not json")}
    answer, lines = run(capsys, items, ["stripe#a", "stripe#b", "stripe#bad", "adyen#gone"])
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}
    by_provider = {line[names.PROVIDER]: line for line in lines}
    assert sorted(by_provider) == ["adyen", "stripe"] and len(lines) == 2
    stripe = by_provider["stripe"]
    assert (stripe[names.PROCESSED], stripe[names.FAILED], stripe[names.END_TO_END_LATENCY]) == (2, 1, [250.0, 250.0])
    assert (by_provider["adyen"][names.PROCESSED], by_provider["adyen"][names.FAILED]) == (0, 1)
    assert names.END_TO_END_LATENCY not in by_provider["adyen"]  # no sample: EMF refuses an empty array


def test_dimensions_are_provider_and_stack_with_a_stack_rollup_and_latency_in_milliseconds(capsys):
    _, [line] = run(capsys, {"stripe#a": stored("stripe#a")}, ["stripe#a"])
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == names.NAMESPACE
    assert directive["Dimensions"] == [[names.PROVIDER, names.STACK], [names.STACK]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        names.PROCESSED: "Count", names.FAILED: "Count", names.END_TO_END_LATENCY: "Milliseconds"}
    assert line[names.STACK] == "payment-webhooks-test"


def test_an_unknown_provider_prefix_never_becomes_a_dimension(capsys):
    _, [line] = run(capsys, {}, ["evil-name#x"])
    assert (line[names.PROVIDER], line[names.FAILED]) == ("unknown", 1)


def test_more_samples_than_emf_allows_in_one_line_spill_into_latency_only_lines(capsys, monkeypatch):
    monkeypatch.setattr(processor.Tally, "MAX_VALUES", 2)
    ids = [f"stripe#{n}" for n in range(5)]
    _, lines = run(capsys, {i: stored(i) for i in ids}, ids)
    assert [len(line[names.END_TO_END_LATENCY]) for line in lines] == [2, 2, 1]
    assert [line.get(names.PROCESSED) for line in lines] == [5, None, None]


def test_an_empty_batch_emits_nothing(capsys):
    assert run(capsys, {}, []) == ({"batchItemFailures": []}, [])


class RacedTable(Table):
    """Another copy of every message marks its item first."""

    def update_item(self, **kwargs):
        from botocore.exceptions import ClientError

        if "IN (" in kwargs.get("ConditionExpression", ""):
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "UpdateItem")
        return {}


def test_a_record_another_copy_finished_first_is_counted_by_that_copy_only(capsys):
    capsys.readouterr()
    answer = processor.process_batch([record("stripe#a", 0)], RacedTable({"stripe#a": stored("stripe#a")}), Bus(),
                                     CONFIG, clock=lambda: NOW)
    assert (answer, emf_lines(capsys.readouterr().out)) == ({"batchItemFailures": []}, [])
