"""End to end through the sandbox: real receiver, processor and audit code against the emulated stack."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.local.conftest import SandboxCliRunner, wait_for
from webhookctl.cli import cli
from webhookctl.edge.context import AppContext
from webhookctl.handlers.webhook_common.contract import acknowledged
from webhookctl.handlers.webhook_common.contract import stack as keys
from webhookctl.operate.secrets import newest_secret
from webhookctl.tryit import send
from webhookctl.tryit.samples import PROVIDERS, sample_event
from webhookctl.tryit.send import Target


def target(sandbox, provider: str) -> Target:
    arn = sandbox.outputs[keys.SIGNING_SECRET_ARN.key]
    text = sandbox.clients.secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
    secret, options = newest_secret(text, provider, arn)
    return Target(f"{sandbox.webhook_url}{provider}", secret, options)


def deliver(sandbox, sample, expect="new") -> send.Outcome:
    delivery = send.signed(sample, target(sandbox, sample.provider), now=int(time.time()), expect=expect)
    return send.deliver([delivery])[0]


def item(sandbox, webhook_id: str) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    found = sandbox.clients.dynamodb.get_item(TableName=sandbox.outputs[keys.TABLE_NAME.key], ConsistentRead=True,
                                              Key={"webhookId": {"S": webhook_id}, "timestamp": {"S": "event"}})
    return {k: TypeDeserializer().deserialize(v) for k, v in found.get("Item", {}).items()}


def finished(sandbox, webhook_id: str) -> dict:
    return wait_for(lambda: (lambda i: i if i.get("status") in ("PROCESSED", "IGNORED") else None)(
        item(sandbox, webhook_id)))


def depth(sandbox, output: keys.Output) -> int:
    attributes = sandbox.clients.sqs.get_queue_attributes(QueueUrl=sandbox.outputs[output.key], AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(v) for v in attributes.values())


def cli_app(sandbox) -> AppContext:
    return AppContext(region="us-east-1", endpoint_url=sandbox.endpoint_url)


# --- every provider, whole pipeline

@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signed_event_is_stored_processed_normalised_and_audited(sandbox, shown, provider):
    sample = sample_event(provider, "payment_succeeded", now=int(time.time()))
    outcome = deliver(sandbox, sample)
    [webhook_id], duplicate = acknowledged(outcome.reply.headers)
    assert (outcome.reply.status, duplicate, outcome.problem) == (200, False, None)
    # The audit line of the final write comes from the stream, so the item is complete by then.
    audit = wait_for(lambda: [json.loads(line) for line in shown.of("audit", webhook_id)
                              if '"newStatus":"PROCESSED"' in line or '"newStatus":"IGNORED"' in line])
    stored = finished(sandbox, webhook_id)
    assert {k: stored.get(k) for k in ("status", "category", "amount", "currency", "provider")} == {
        "status": "PROCESSED", "category": "payment_succeeded", "amount": 2599, "currency": "USD",
        "provider": provider}
    assert stored["paymentId"] == sample.reference
    final = stored["status"]
    # The processor may finish before the receiver marks the item ENQUEUED (the mark is then skipped).
    assert [(a["eventName"], a["oldStatus"] in ("ENQUEUED", "RECEIVED"), a["newStatus"], a["provider"])
            for a in audit] == [("MODIFY", True, final, provider)]
    assert "payload" not in audit[0]["attributes"]
    created = datetime.strptime(audit[0]["approximateCreationTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(created.timestamp() - time.time()) < 120
    assert wait_for(lambda: shown.of("done", f"{provider} {sample.event_type} {final} "))


def test_the_audit_log_group_receives_the_audit_lines(sandbox):
    outcome = deliver(sandbox, sample_event("paddle", "refund", now=int(time.time())))
    webhook_id = outcome.reply.json()["webhookId"]
    finished(sandbox, webhook_id)
    group = sandbox.outputs[keys.AUDIT_LOG_GROUP.key]

    def audit_lines() -> list[str]:
        events = sandbox.clients.logs.filter_log_events(logGroupName=group)["events"]
        return [e["message"] for e in events if webhook_id in e["message"] and "PROCESSED" in e["message"]]

    assert len(wait_for(audit_lines, timeout=5)) == 1


# --- duplicates and tampering


def test_a_redelivery_is_acknowledged_as_a_duplicate_and_processed_once(sandbox):
    sample = sample_event("stripe", "refund", now=int(time.time()))
    first = deliver(sandbox, sample)
    webhook_id = first.reply.json()["webhookId"]
    processed_at = finished(sandbox, webhook_id)["processedAt"]
    again = deliver(sandbox, sample, expect="duplicate")
    assert (first.problem, again.problem, again.reply.json()["webhookId"]) == (None, None, webhook_id)
    time.sleep(0.2)  # a second processing would have rewritten processedAt by now
    assert item(sandbox, webhook_id)["processedAt"] == processed_at


def test_concurrent_duplicate_deliveries_store_and_process_the_event_once(sandbox):
    sample = sample_event("standard", "dispute", now=int(time.time()))
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: deliver(sandbox, sample), range(8)))
    answers = [o.reply.json() for o in outcomes]
    assert {(o.reply.status, a["webhookId"]) for o, a in zip(outcomes, answers, strict=True)} == {
        (200, f"standard#{sample.event_id}")}
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 7
    stored = finished(sandbox, f"standard#{sample.event_id}")
    time.sleep(0.3)
    assert item(sandbox, f"standard#{sample.event_id}")["processedAt"] == stored["processedAt"]
    assert (depth(sandbox, keys.PROCESSING_QUEUE_URL), depth(sandbox, keys.DEAD_LETTER_QUEUE_URL)) == (0, 0)


@pytest.mark.parametrize("provider", ["stripe", "adyen", "square"])
def test_a_tampered_event_gets_401_and_leaves_no_trace(sandbox, provider):
    sample = sample_event(provider, "payment_succeeded", now=int(time.time()))
    delivery = send.tampered(send.signed(sample, target(sandbox, provider), now=int(time.time())))
    outcome = send.deliver([delivery])[0]
    assert (outcome.reply.status, outcome.problem) == (401, None)
    scan = sandbox.clients.dynamodb.scan(TableName=sandbox.outputs[keys.TABLE_NAME.key])["Items"]
    assert [i for i in scan if sample.event_id.split(":")[0] in json.dumps(i)] == []
    assert depth(sandbox, keys.PROCESSING_QUEUE_URL) == 0


def test_routes_other_than_post_webhook_provider_get_api_gateways_403(sandbox):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{sandbox.webhook_url}stripe", timeout=5)  # GET
    assert (error.value.code, json.loads(error.value.read())) == (403, {"message": "Missing Authentication Token"})


def raw_http(sandbox, request: bytes) -> bytes:
    """Bytes on a socket, as a misbehaving client would send them; the whole answer back."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(sandbox.webhook_url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: connection.recv(65536), b""))


@pytest.mark.parametrize(("headers", "body", "status", "message"), [
    (b"Content-Length: abc\r\n", b"{}", b"400", b"Invalid Content-Length"),
    (b"Content-Length: -1\r\n", b"{}", b"400", b"Invalid Content-Length"),
    (b"Transfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n", b"411", b"Length Required"),
    (b"Content-Length: 10485761\r\n", b"x" * 10485761, b"413", b"Request Too Long"),
])
def test_malformed_or_oversized_requests_get_api_gateways_answer_not_a_reset(sandbox, headers, body, status,
                                                                              message):
    answer = raw_http(sandbox, b"POST /webhook/stripe HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + body)
    assert answer.startswith(b"HTTP/1.1 " + status + b" ")
    assert answer.endswith(b'{"message":"' + message + b'"}')


# --- the DLQ drill


def test_dlq_drill_poison_alarm_fix_redrive_green(sandbox):
    runner, app = SandboxCliRunner(sandbox), cli_app(sandbox)
    suffix = sandbox.outputs[keys.TABLE_NAME.key].removeprefix("PaymentWebhooks-")
    good = sample_event("checkout", "payment_succeeded", now=int(time.time()))
    poison = replace(good, body=good.body.replace(b'"currency":"USD"', b'"currency":"dollars"'))
    webhook_id = deliver(sandbox, poison).reply.json()["webhookId"]

    # GIVEN a poison event that the processor fails on every receive
    wait_for(lambda: depth(sandbox, keys.DEAD_LETTER_QUEUE_URL) == 1)
    assert (item(sandbox, webhook_id)["status"], depth(sandbox, keys.PROCESSING_QUEUE_URL)) == ("ENQUEUED", 0)
    # it failed exactly maxReceiveCount (3) times, as the processor's log group tells
    group = sandbox.outputs[keys.PROCESSOR_LOG_GROUP.key]

    def failure_lines() -> list[str]:
        events = sandbox.clients.logs.filter_log_events(logGroupName=group, filterPattern="record failed")
        return [e["message"] for e in events["events"]]

    wait_for(lambda: len(failure_lines()) >= 3)  # shipped within a second
    failures = failure_lines()
    assert [json.loads(f)["error"] for f in failures] == [
        "malformed checkout event: currency is not a 3-letter ISO 4217 code"] * 3
    # THEN the DLQ alarm fires, and `alarms status` says so with exit 1
    wait_for(lambda: runner.invoke(cli, ["alarms", "status", "-s", suffix], obj=cli_app(sandbox)).exit_code == 1)
    status = runner.invoke(cli, ["alarms", "status", "-s", suffix], obj=app)
    assert f"payment-webhooks-{suffix}-dlq-depth" in status.stdout and "ALARM" in status.stdout

    # WHEN the data is fixed and the DLQ redriven
    sandbox.clients.dynamodb.update_item(
        TableName=sandbox.outputs[keys.TABLE_NAME.key],
        Key={"webhookId": {"S": webhook_id}, "timestamp": {"S": "event"}},
        UpdateExpression="SET payload = :p", ExpressionAttributeValues={":p": {"S": good.body.decode()}})
    redrive = runner.invoke(cli, ["dlq", "redrive", "-s", suffix], obj=cli_app(sandbox))
    assert redrive.exit_code == 0, redrive.output

    # THEN it is processed, the DLQ is empty and every alarm is OK again (exit 0)
    assert finished(sandbox, webhook_id)["status"] == "PROCESSED"
    assert depth(sandbox, keys.DEAD_LETTER_QUEUE_URL) == 0
    wait_for(lambda: runner.invoke(cli, ["alarms", "status", "-s", suffix], obj=cli_app(sandbox)).exit_code == 0)


# --- send against a stack: the secret comes from its SigningSecretArn output


def test_send_with_a_suffix_signs_with_the_stacks_secret(sandbox):
    suffix = sandbox.outputs[keys.TABLE_NAME.key].removeprefix("PaymentWebhooks-")
    result = SandboxCliRunner(sandbox).invoke(cli, ["send", "-p", "razorpay", "-s", suffix, "--url",
                                      f"{sandbox.webhook_url}razorpay", "--type", "refund"], obj=cli_app(sandbox))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("razorpay refund.processed ") and result.stdout.rstrip().endswith("[ok]")



def test_the_sandbox_holds_one_copy_of_the_handler_code(sandbox):
    import sys

    receiver = sandbox.functions["receiver"].handler
    assert receiver.__module__ == "webhookctl.handlers.receiver"
    for name in ("receiver", "webhook_common", "webhook_common.providers", "webhook_common.contract.secrets"):
        assert sys.modules[name] is sys.modules[f"webhookctl.handlers.{name}"], name


# --- the README's consumer example, on the sandbox's bus


def test_the_readmes_consumer_rule_routes_refunds_and_nothing_else(sandbox):
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    pattern = json.dumps(json.loads(re.search(r"\n\s+EventPattern: (\{.*\})\n", readme)[1]))
    sqs, events = sandbox.clients.sqs, sandbox.clients.client("events")
    url = sqs.create_queue(QueueName="readme-ledger-refunds")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = sandbox.outputs[keys.EVENT_BUS_NAME.key]
    events.put_rule(Name="refunds-to-ledger", EventBusName=bus, EventPattern=pattern)
    events.put_targets(Rule="refunds-to-ledger", EventBusName=bus, Targets=[{"Id": "ledger", "Arn": arn}])
    try:
        ids = {}
        for kind in ("refund", "payment_succeeded"):
            outcome = deliver(sandbox, sample_event("stripe", kind, now=int(time.time())))
            [ids[kind]], _ = acknowledged(outcome.reply.headers)
            finished(sandbox, ids[kind])
        ours = set(ids.values())  # (the session's sandbox may still be finishing other tests' refunds)
        received: list[dict] = []

        def refund_arrived() -> bool:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            received.extend(d for d in map(lambda m: json.loads(m["Body"]), messages)
                            if d["detail"]["webhookId"] in ours)
            return any(d["detail"]["webhookId"] == ids["refund"] for d in received)

        wait_for(refund_arrived)
        assert [(d["detail-type"], d["detail"]["webhookId"]) for d in received] == [("refund", ids["refund"])]
        assert received[0]["source"] == "webhookctl.stripe" and received[0]["detail"]["amount"] > 0
        assert all(d["detail-type"] == "refund" for d in map(lambda m: json.loads(m["Body"]), sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])))
    finally:
        events.remove_targets(Rule="refunds-to-ledger", EventBusName=bus, Ids=["ledger"])
        events.delete_rule(Name="refunds-to-ledger", EventBusName=bus)

