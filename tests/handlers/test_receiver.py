"""The receiver against moto (DynamoDB, SQS, Secrets Manager in-process): answers, storage, idempotency, loss."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from datetime import datetime

import processor
import pytest
import receiver
from botocore.exceptions import ClientError, EndpointConnectionError
from webhook_common import runtime
from webhook_common.secrets import SecretsCache

from .conftest import SECRETS, TABLE, api_event, log_lines, signed_event, status_changes
from .samples import SAMPLES, STRIPE_SUCCEEDED

SAMPLE_BY_PROVIDER = {}
for _sample in SAMPLES:
    SAMPLE_BY_PROVIDER.setdefault(_sample.provider, _sample)


def sample_event(provider: str, **kwargs) -> dict:
    sample = SAMPLE_BY_PROVIDER[provider]
    options = {
        "standard": {"msgId": (sample.headers or {}).get("webhook-id")},
        "github": {"event": (sample.headers or {}).get("x-github-event"),
                   "delivery": (sample.headers or {}).get("x-github-delivery")},
        "razorpay": {"eventId": (sample.headers or {}).get("x-razorpay-event-id")},
    }.get(provider)
    return signed_event(provider, sample.payload, options=options, **kwargs)


def answer(response: dict) -> tuple[int, dict]:
    """(status, body); Adyen's "[accepted]" is read as the JSON answer its headers carry."""
    headers = response["headers"]
    if response["body"] == "[accepted]":
        return response["statusCode"], {"received": True, "webhookId": headers["X-Webhookctl-Ids"],
                                        "duplicate": headers["X-Webhookctl-Duplicate"] == "true"}
    return response["statusCode"], json.loads(response["body"])


def stored_payload(raw: bytes) -> str:
    """What the receiver stores for a body: its JSON with card numbers masked, compact."""
    from webhook_common.redact import mask_cards

    return json.dumps(mask_cards(json.loads(raw)), separators=(",", ":"), ensure_ascii=False)


def assert_nothing_written(aws) -> None:
    assert aws.all_items() == []
    assert aws.messages() == []


# --- accepted deliveries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(SAMPLE_BY_PROVIDER))
def test_signed_event_is_stored_and_enqueued(aws, provider):
    # GIVEN a correctly signed sample event from the provider
    event = sample_event(provider)
    sample = SAMPLE_BY_PROVIDER[provider]
    # WHEN it is delivered
    status, body = answer(receiver.handler(event, None))
    # THEN it is acknowledged, stored once and its key (only) is on the queue
    webhook_id = body["webhookId"]
    assert (status, body) == (200, {"received": True, "webhookId": webhook_id, "duplicate": False})
    assert webhook_id.startswith(f"{provider}#")
    [item] = aws.items()
    assert {k: item[k] for k in ("webhookId", "timestamp", "provider", "eventType", "status")} == {
        "webhookId": {"S": webhook_id},
        "timestamp": {"S": "event"},
        "provider": {"S": provider},
        "eventType": {"S": sample.event_type},
        "status": {"S": "ENQUEUED"},
    }
    assert item["eventId"]["S"] == webhook_id.split("#", 1)[1]
    raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    assert item["payload"]["S"] == stored_payload(raw)
    assert item["bodyDigest"]["S"] == hashlib.sha256(raw).hexdigest()
    [message] = aws.messages()
    assert json.loads(message["Body"]) == {"webhookId": webhook_id, "timestamp": "event"}
    assert message["MessageAttributes"] == {
        "provider": {"StringValue": provider, "DataType": "String"},
        "eventType": {"StringValue": sample.event_type, "DataType": "String"},
    }


def test_item_expires_after_the_configured_ttl(aws, monkeypatch):
    monkeypatch.setenv("EVENT_TTL_DAYS", "90")
    receiver.handler(sample_event("stripe"), None)
    [item] = aws.items()
    received = datetime.fromisoformat(item["receivedAt"]["S"].replace("Z", "+00:00")).timestamp()
    assert int(item["expiresAt"]["N"]) == int(received) + 90 * 86400


def test_base64_body_is_verified_on_the_decoded_bytes(aws):
    status, body = answer(receiver.handler(sample_event("stripe", as_base64=True), None))
    assert (status, body["duplicate"]) == (200, False)


def test_header_names_are_case_insensitive(aws):
    event = sample_event("stripe")
    event["headers"] = {k.upper(): v for k, v in event["headers"].items()}
    assert receiver.handler(event, None)["statusCode"] == 200


def test_verification_is_on_the_exact_bytes_and_the_stored_payload_keeps_their_text(aws):
    # GIVEN a pretty-printed body with non-ASCII text (re-serialising before verifying would break it)
    payload = json.dumps({**STRIPE_SUCCEEDED, "description": "Café ©®™"}, indent=4, ensure_ascii=False).encode()
    status, body = answer(receiver.handler(signed_event("stripe", payload), None))
    assert (status, body["webhookId"]) == (200, "stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF")
    [item] = aws.items()
    assert json.loads(item["payload"]["S"])["description"] == "Café ©®™"
    assert item["bodyDigest"]["S"] == hashlib.sha256(payload).hexdigest()


# --- refused deliveries: status and nothing written ---------------------------------------------------------


def unsigned(event: dict) -> dict:
    return {**event, "headers": {}}


def tampered(event: dict) -> dict:
    return {**event, "body": event["body"].replace("2000", "2001", 1)}


def get_method(event: dict) -> dict:
    return {**event, "httpMethod": "GET"}


def unknown_provider(event: dict) -> dict:
    return {**event, "pathParameters": {"provider": "paypal"}}


def no_path_parameter(event: dict) -> dict:
    return {**event, "pathParameters": None}


def invalid_base64(event: dict) -> dict:
    return {**event, "body": "not base64!!", "isBase64Encoded": True}


REFUSALS = [
    ("GET", get_method, 405),
    ("unknown provider", unknown_provider, 404),
    ("no provider in path", no_path_parameter, 404),
    ("missing signature", unsigned, 401),
    ("tampered body", tampered, 401),
    ("invalid base64", invalid_base64, 400),
]


@pytest.mark.parametrize(("case", "change", "expected"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_request_writes_nothing(aws, case, change, expected):
    status, body = answer(receiver.handler(change(sample_event("stripe")), None))
    assert (status, set(body)) == (expected, {"error"})
    assert "evt_" not in json.dumps(body)  # never an echo of the payload
    assert_nothing_written(aws)


@pytest.mark.parametrize("provider", sorted(SAMPLE_BY_PROVIDER))
def test_an_unsigned_deeply_nested_body_is_refused_never_a_500(aws, provider):
    # GIVEN a body built to exhaust a JSON parser's recursion, with no signature at all
    body = b"[" * 100_000 + b"]" * 100_000
    # WHEN anyone posts it
    status, _ = answer(receiver.handler(api_event(provider, body, {}), None))
    # THEN it is refused as unsigned (a 500 would page on-call and invite retries)
    assert status == 401
    assert_nothing_written(aws)


def test_405_names_the_allowed_method(aws):
    response = receiver.handler(get_method(sample_event("stripe")), None)
    assert response["headers"]["Allow"] == "POST"


def test_stale_timestamp_is_401(aws):
    status, body = answer(receiver.handler(sample_event("stripe", now=int(time.time()) - 301), None))
    assert (status, body) == (401, {"error": "signature timestamp is older than the tolerance"})
    assert_nothing_written(aws)


def test_wrong_secret_is_401(aws):
    status, _ = answer(receiver.handler(sample_event("stripe", secret="whsec_wrong"), None))
    assert status == 401
    assert_nothing_written(aws)


def test_unconfigured_provider_is_404(aws):
    # GIVEN a signing secret that configures only stripe
    aws.set_secrets({"stripe": [SECRETS["stripe"]]})
    status, body = answer(receiver.handler(sample_event("razorpay"), None))
    assert (status, body) == (404, {"error": "unknown provider"})  # the same answer as a provider we lack
    assert_nothing_written(aws)


def test_body_over_256_kib_is_413_even_when_signed(aws):
    payload = json.dumps({**STRIPE_SUCCEEDED, "padding": "x" * (256 * 1024)}).encode()
    for as_base64 in (False, True):
        status, _ = answer(receiver.handler(signed_event("stripe", payload, as_base64=as_base64), None))
        assert status == 413
    assert_nothing_written(aws)


def test_body_of_exactly_256_kib_is_accepted(aws):
    payload = json.dumps({**STRIPE_SUCCEEDED, "padding": ""}).encode()
    payload = payload.replace(b'"padding": ""', b'"padding": "' + b"x" * (256 * 1024 - len(payload)) + b'"')
    assert len(payload) == 256 * 1024
    assert receiver.handler(signed_event("stripe", payload), None)["statusCode"] == 200


@pytest.mark.parametrize(
    "payload", [b"not json", b"\xff\xfe{}", b'{"id": "evt_1"', b"[]"], ids=["text", "not utf-8", "truncated", "array"]
)
def test_signed_body_that_is_not_json_event_is_400(aws, payload):
    status, body = answer(receiver.handler(signed_event("stripe", payload, as_base64=True), None))
    assert status == 400
    assert body["error"] in ("body is not UTF-8 JSON", "no event id in the webhook")
    assert_nothing_written(aws)


@pytest.mark.parametrize(
    "event_id",
    [None, "", 12.5, {"nested": 1}, "x" * 300, "evt\n1"],
    ids=["missing", "empty", "float", "object", "too long", "control char"],
)
def test_signed_json_without_usable_event_id_is_400(aws, event_id):
    payload = {k: v for k, v in STRIPE_SUCCEEDED.items() if k != "id"}
    if event_id is not None:
        payload["id"] = event_id
    status, body = answer(receiver.handler(signed_event("stripe", payload), None))
    assert (status, body) == (400, {"error": "no event id in the webhook"})
    assert_nothing_written(aws)


def test_refusals_log_no_body(aws, capsys):
    receiver.handler(tampered(sample_event("stripe")), None)
    receiver.handler(signed_event("stripe", b"not json, card 4111111111111111", as_base64=True), None)
    logged = capsys.readouterr().out
    assert "4111" not in logged and "evt_" not in logged and "pi_" not in logged
    assert [json.loads(line)["status"] for line in log_lines(logged)] == [401, 400]


# --- idempotency and loss -------------------------------------------------------------------------------------


def test_redelivery_is_a_duplicate_with_no_second_item_or_message(aws):
    # GIVEN an accepted event
    first = answer(receiver.handler(sample_event("stripe", now=int(time.time()) - 120), None))
    # WHEN the provider redelivers it later with a new timestamp and signature
    again = answer(receiver.handler(sample_event("stripe"), None))
    # THEN the answer is 200 duplicate, and there is still one item and one message
    assert first == (200, {"received": True, "webhookId": "stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF", "duplicate": False})
    assert again == (200, {"received": True, "webhookId": "stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF", "duplicate": True})
    assert len(aws.items()) == 1
    assert len(aws.messages()) == 1


class FailingOnce:
    """Wraps a boto3 client; the named operation raises once (a crash or outage at that exact point)."""

    def __init__(self, client, operation: str, error: Exception):
        self._client, self._operation, self._error = client, operation, error

    def __getattr__(self, name):
        if name == self._operation and self._error is not None:
            error, self._error = self._error, None

            def fail(**kwargs):
                raise error

            return fail
        return getattr(self._client, name)


def deps(aws, *, dynamodb=None, sqs=None, secrets=None) -> receiver.Deps:
    return receiver.Deps(
        dynamodb or runtime.dynamodb(),
        sqs or runtime.sqs(),
        secrets or runtime.signing_secrets(),
        runtime.receiver_config(),
    )


def process_queue(aws) -> dict:
    return processor.process_batch(aws.drain(), runtime.dynamodb(), runtime.events(), runtime.processor_config())


def test_failure_between_store_and_enqueue_then_retry_processes_exactly_once(aws):
    # GIVEN SQS fails right after the item is stored
    outage = EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com")
    failing = deps(aws, sqs=FailingOnce(runtime.sqs(), "send_message", outage))
    # WHEN the event is delivered
    status, body = answer(receiver.receive(sample_event("stripe"), failing))
    # THEN the provider gets 500 (it will retry); the item waits as RECEIVED, nothing is queued
    assert (status, body) == (500, {"error": "temporarily unable to accept the webhook; retry later"})
    assert [i["status"]["S"] for i in aws.items()] == ["RECEIVED"]
    assert aws.messages() == []
    # WHEN the provider retries
    status, body = answer(receiver.receive(sample_event("stripe"), failing))
    # THEN it is enqueued now, and processing it completes the event exactly once
    assert (status, body["duplicate"]) == (200, True)
    assert process_queue(aws) == {"batchItemFailures": []}
    assert status_changes(aws) == [
        ("stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF", None, "RECEIVED"),
        ("stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF", "RECEIVED", "ENQUEUED"),
        ("stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF", "ENQUEUED", "PROCESSED"),
    ]


def test_crash_after_enqueue_before_mark_still_processes_exactly_once(aws):
    # GIVEN the final RECEIVED -> ENQUEUED mark fails after the message was sent
    throttled = ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "UpdateItem"
    )
    failing = deps(aws, dynamodb=FailingOnce(runtime.dynamodb(), "update_item", throttled))
    assert answer(receiver.receive(sample_event("stripe"), failing))[0] == 200
    # WHEN the provider redelivers anyway (say our 200 was lost) THEN the key is enqueued a second time
    assert answer(receiver.receive(sample_event("stripe"), failing))[1]["duplicate"] is True
    assert len(aws.messages()) == 2
    # AND processing both copies changes the item to PROCESSED exactly once
    assert process_queue(aws) == {"batchItemFailures": []}
    processed = [c for c in status_changes(aws) if c[2] == "PROCESSED"]
    assert processed == [("stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF", "ENQUEUED", "PROCESSED")]


def test_dynamodb_failure_is_500_and_nothing_is_queued(aws):
    aws.dynamodb.delete_table(TableName=TABLE)
    status, _ = answer(receiver.handler(sample_event("stripe"), None))
    assert status == 500
    assert aws.messages() == []


def test_secrets_manager_failure_is_500(aws):
    aws.secretsmanager.delete_secret(SecretId=aws.secret_arn, ForceDeleteWithoutRecovery=True)
    assert answer(receiver.handler(sample_event("stripe"), None))[0] == 500
    assert_nothing_written(aws)


def test_signing_secret_that_is_not_a_json_object_is_500(aws):
    aws.secretsmanager.put_secret_value(SecretId=aws.secret_arn, SecretString='["whsec_x"]')
    assert answer(receiver.handler(sample_event("stripe"), None))[0] == 500
    assert_nothing_written(aws)


def test_missing_environment_is_500(aws, monkeypatch):
    monkeypatch.delenv("QUEUE_URL")
    assert answer(receiver.handler(sample_event("stripe"), None)) == (
        500,
        {"error": "temporarily unable to accept the webhook; retry later"},
    )
    assert_nothing_written(aws)


def test_concurrent_duplicate_deliveries_store_once_and_process_once(aws):
    # GIVEN 8 deliveries of one event, each freshly signed, arriving at the same moment
    events = [sample_event("stripe") for _ in range(8)]
    runtime.receiver_config(), runtime.dynamodb(), runtime.sqs(), runtime.signing_secrets().get("stripe")
    barrier, answers = threading.Barrier(len(events)), []

    def deliver(event):
        barrier.wait()
        answers.append(answer(receiver.handler(event, None)))

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN all are acknowledged, exactly one as new; one item exists
    assert sorted(a[1]["duplicate"] for a in answers) == [False] + [True] * 7
    assert {a[0] for a in answers} == {200}
    assert len(aws.items()) == 1
    # AND however many copies were queued, the item becomes PROCESSED exactly once
    assert process_queue(aws) == {"batchItemFailures": []}
    assert [c[2] for c in status_changes(aws)].count("PROCESSED") == 1


# --- signing-secret rotation ---------------------------------------------------------------------------------


def test_both_listed_secrets_verify_during_rotation(aws):
    aws.set_secrets({"stripe": ["whsec_new", "whsec_old"]})
    old = receiver.handler(signed_event("stripe", {**STRIPE_SUCCEEDED, "id": "evt_old"}, secret="whsec_old"), None)
    new = receiver.handler(signed_event("stripe", {**STRIPE_SUCCEEDED, "id": "evt_new"}, secret="whsec_new"), None)
    assert (old["statusCode"], new["statusCode"]) == (200, 200)


def test_a_secret_added_after_caching_is_picked_up_on_failure_at_most_every_30_s(aws):
    # GIVEN a container that cached the signing secret at t=0
    clock = [0.0]
    cache = SecretsCache(
        lambda: aws.secretsmanager.get_secret_value(SecretId=aws.secret_arn)["SecretString"],
        ttl=300,
        clock=lambda: clock[0],
    )
    assert cache.get("stripe") is not None
    # WHEN a new secret is added and the provider signs with it at once
    aws.set_secrets({"stripe": ["whsec_rotated", SECRETS["stripe"]]})
    event = signed_event("stripe", STRIPE_SUCCEEDED, secret="whsec_rotated")
    # THEN within 30 s of the last read it is still refused (no secret re-read storm)...
    clock[0] = 10
    assert receiver.receive(event, deps(aws, secrets=cache))["statusCode"] == 401
    # ... and after that the failure triggers one re-read and the delivery is accepted
    clock[0] = 31
    assert receiver.receive(event, deps(aws, secrets=cache))["statusCode"] == 200


def test_secret_cache_rereads_after_ttl():
    reads, clock = [], [0.0]
    cache = SecretsCache(lambda: reads.append(1) or '{"stripe": ["a"]}', ttl=300, clock=lambda: clock[0])
    for moment in (0, 100, 299.9, 300, 301):
        clock[0] = moment
        cache.get("stripe")
    assert len(reads) == 2


def test_unexpected_failure_is_a_clean_500_with_no_body_in_the_log(aws, monkeypatch, capsys):
    # GIVEN a provider whose event-id extractor blows up on this payload
    import dataclasses

    from webhook_common.providers import PROVIDERS

    def explode(payload, headers, signed):
        raise RuntimeError(f"cannot read {payload['id']}")

    monkeypatch.setitem(PROVIDERS, "stripe", dataclasses.replace(PROVIDERS["stripe"], event_id=explode))
    # WHEN a valid delivery arrives THEN the provider gets the generic 500 and nothing is stored
    assert answer(receiver.handler(sample_event("stripe"), None)) == (
        500,
        {"error": "temporarily unable to accept the webhook; retry later"},
    )
    assert_nothing_written(aws)
    [line] = log_lines(capsys.readouterr().out)
    assert json.loads(line)["errorType"] == "RuntimeError"
    assert "evt_" not in line


def metric_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws":')]


def test_each_request_is_counted_by_provider_and_answer(aws, capsys):
    # GIVEN a new event, its retry, a forgery and a request to a provider nobody configured
    first = receiver.handler(sample_event("stripe"), None)
    again = receiver.handler(sample_event("stripe"), None)
    forged = sample_event("stripe")
    forged["body"] = forged["body"].replace("succeeded", "failed")
    refused = receiver.handler(forged, None)
    stranger = receiver.handler({**sample_event("stripe"), "pathParameters": {"provider": "acme-<script>"}}, None)
    assert [r["statusCode"] for r in (first, again, refused, stranger)] == [200, 200, 401, 404]
    # THEN one metric line per request, under the stack and the provider (a stranger's name is not a dimension)
    lines = metric_lines(capsys.readouterr().out)
    counted = [(m["Provider"], m["Accepted"], m["Duplicates"], m["SignatureRejected"], m["Rejected"],
                m["ServerErrors"]) for m in lines]
    # each also rolled up by stack alone: CloudWatch never sums across dimensions, and the 500s alarm is per stack
    assert {json.dumps(m["_aws"]["CloudWatchMetrics"][0]["Dimensions"]) for m in lines} == {
        json.dumps([["Provider", "Stack"], ["Stack"]])}
    assert counted == [("stripe", 1, 0, 0, 0, 0), ("stripe", 0, 1, 0, 0, 0), ("stripe", 0, 0, 1, 0, 0),
                       ("unknown", 0, 0, 0, 1, 0)]
