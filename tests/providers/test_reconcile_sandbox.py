"""End to end through the sandbox: Stripe events sent signed to the sandbox's gateway, some lost from the
store before the processor saw them, the fake Stripe API listing all of them, then `webhookctl reconcile
--backfill` through the CLI. Every event ends PROCESSED and reaches the stack's bus exactly once (an
EventBridge rule on the bus copies what the processor publishes into a queue the test reads)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.local.conftest import SandboxCliRunner, point_at_sandbox, wait_for
from tests.providers.fakes import FakeStripe
from webhookctl.cli import cli
from webhookctl.edge.context import AppContext
from webhookctl.handlers.webhook_common import contract
from webhookctl.handlers.webhook_common.contract import stack as keys
from webhookctl.operate.secrets import newest_secret
from webhookctl.tryit import send
from webhookctl.tryit.samples import sample_event
from webhookctl.tryit.sandbox import Sandbox, SandboxOptions, start_queue_pollers, start_sandbox

pytestmark = pytest.mark.slow
# No processor until the test has taken the lost events out; no sweep to re-enqueue anything meanwhile.
OPTIONS = SandboxOptions(suffix="reconcile-sandbox", queue_workers=0, retry_delay_s=0, idle_s=0.02,
                         stream_poll_s=0.05, alarm_every_s=0.1, sweep_every_s=3600)
KINDS = ("payment_succeeded", "refund", "payment_failed", "payment_succeeded", "dispute", "refund")
LOST = (1, 4)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox(OPTIONS, lambda line: None)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def sandbox_environment(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root conftest hides AWS endpoints; the handlers here need them."""
    point_at_sandbox(monkeypatch, OPTIONS.region)


def capture_bus(sandbox: Sandbox) -> str:
    """A queue receiving every event published on the stack's bus."""
    sqs = sandbox.clients.sqs
    url = sqs.create_queue(QueueName="reconcile-captured-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events, bus = sandbox.clients.client("events"), sandbox.outputs[keys.EVENT_BUS_NAME.key]
    events.put_rule(Name="reconcile-capture", EventBusName=bus,
                    EventPattern=json.dumps({"source": [{"prefix": "webhookctl."}]}))
    events.put_targets(Rule="reconcile-capture", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def published(sandbox: Sandbox, url: str) -> list[str]:
    """The webhookIds of every event the capture queue holds now (taken off it)."""
    sqs, found = sandbox.clients.sqs, []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        found += [json.loads(m["Body"])["detail"]["webhookId"] for m in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(messages)])
    return found


def status(sandbox: Sandbox, webhook_id: str) -> dict[str, Any]:
    return sandbox.clients.dynamodb.get_item(
        TableName=sandbox.outputs[keys.TABLE_NAME.key], ConsistentRead=True,
        Key={"webhookId": {"S": webhook_id}, "timestamp": {"S": contract.ITEM_TIMESTAMP}}).get("Item") or {}


def lose(sandbox: Sandbox, webhook_ids: set[str], sent: int) -> None:
    """Take the events out of the store and their keys off the processing queue, before any processing:
    as if the provider had never got them delivered."""
    sqs, url = sandbox.clients.sqs, sandbox.outputs[keys.PROCESSING_QUEUE_URL.key]
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(messages) < sent and time.monotonic() < deadline:
        messages += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                        WaitTimeSeconds=0).get("Messages", [])
    assert len(messages) == sent
    for message in messages:
        webhook_id = contract.item_key(message["Body"])["webhookId"]["S"]
        if webhook_id in webhook_ids:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    for webhook_id in webhook_ids:
        sandbox.clients.dynamodb.delete_item(TableName=sandbox.outputs[keys.TABLE_NAME.key], Key={
            "webhookId": {"S": webhook_id}, "timestamp": {"S": contract.ITEM_TIMESTAMP}})


def reconcile(sandbox: Sandbox, *args: str) -> Any:
    suffix = sandbox.outputs[keys.TABLE_NAME.key].removeprefix("PaymentWebhooks-")
    return SandboxCliRunner(sandbox).invoke(cli, ["reconcile", "--suffix", suffix, "--provider", "stripe",
                                                  "--since", "1h", "--format", "json", *args],
                                            obj=AppContext(region=OPTIONS.region, endpoint_url=sandbox.endpoint_url))


def test_reconcile_backfills_the_lost_events_and_every_event_is_processed_and_published_once(
        sandbox: Sandbox, fake_stripe: FakeStripe) -> None:
    captured = capture_bus(sandbox)
    arn = sandbox.outputs[keys.SIGNING_SECRET_ARN.key]
    secret, options = newest_secret(sandbox.clients.secretsmanager.get_secret_value(SecretId=arn)["SecretString"],
                                    "stripe", arn)
    target = send.Target(f"{sandbox.webhook_url}stripe", secret, options)
    now = int(time.time())
    samples = [sample_event("stripe", kind, now=now - 600 + index) for index, kind in enumerate(KINDS)]
    ids = [f"stripe#{s.event_id}" for s in samples]
    for outcome in send.deliver([send.signed(s, target, now=now) for s in samples]):
        assert (outcome.reply.status, outcome.problem) == (200, None)
    fake_stripe.events += [json.loads(s.body) for s in samples]  # Stripe's own record: all of them
    lost = {ids[i] for i in LOST}
    lose(sandbox, lost, len(samples))
    start_queue_pollers(sandbox, replace(OPTIONS, queue_workers=2), {}, lambda line: None)
    kept = [w for w in ids if w not in lost]
    wait_for(lambda: all(status(sandbox, w).get("status", {}).get("S") == "PROCESSED" for w in kept))
    assert all(status(sandbox, w) == {} for w in lost)

    result = reconcile(sandbox, "--backfill")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert sorted(e["eventId"] for e in shown["missingHere"]) == sorted(samples[i].event_id for i in LOST)
    assert shown["totals"] == {"inBoth": len(kept), "missingHere": len(lost), "hereOnly": 0}
    assert sorted(shown["backfill"]["stored"]) == sorted(lost)
    wait_for(lambda: all(status(sandbox, w).get("status", {}).get("S") == "PROCESSED" for w in ids))
    assert {status(sandbox, w)["source"]["S"] for w in lost} == {"reconcile"}

    collected: list[str] = []

    def all_published() -> bool:
        collected.extend(published(sandbox, captured))
        return len(collected) >= len(ids)

    wait_for(all_published)
    again = reconcile(sandbox, "--backfill")  # nothing missing now: nothing stored, nothing published
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    assert second["totals"] == {"inBoth": len(ids), "missingHere": 0, "hereOnly": 0}
    assert second["backfill"]["stored"] == []
    time.sleep(1.0)  # a second publication of anything would have reached the capture queue by now
    collected.extend(published(sandbox, captured))
    assert sorted(collected) == sorted(ids)  # every event, each exactly once
