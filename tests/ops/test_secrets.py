"""secrets set / list / remove: rotation-safe edits of the signing-secrets document, never showing a value."""

from __future__ import annotations

import json
import time

import pytest

from tests.ops.conftest import SUFFIX, drain

NEW, OLD = "whsec_new_0123456789abcdef", "whsec_old_fedcba9876543210"


def stored(pipeline) -> dict:
    return json.loads(pipeline.secretsmanager.get_secret_value(
        SecretId=pipeline.outputs["SigningSecretArn"])["SecretString"])


# ---- through the CLI, on moto ------------------------------------------------------------------------

slow = pytest.mark.slow


@slow
def test_set_from_stdin_rotates_then_list_shows_counts_only(pipeline):
    # GIVEN an old secret, then a new one piped in with surrounding whitespace
    first = pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "stripe", input=f"{OLD}\n")
    second = pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "stripe", input=f"  {NEW}\n")
    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    # THEN both are stored, newest first, and nothing echoed a value
    assert stored(pipeline) == {"stripe": [NEW, OLD]}
    assert "stored a new secret for stripe: 2 valid now" in second.stderr
    # WHEN listing (text and JSON)
    text = pipeline.invoke("secrets", "list", "--suffix", SUFFIX)
    as_json = pipeline.invoke("secrets", "list", "--suffix", SUFFIX, "--format", "json")
    # THEN counts only
    assert text.stdout == "PROVIDER  SECRETS  OPTIONS\nstripe    2        -\n"
    assert json.loads(as_json.stdout) == [{"provider": "stripe", "secrets": 2, "options": []}]
    for result in (first, second, text, as_json):
        assert "whsec" not in result.output


@slow
def test_set_from_file_with_option_then_the_verifier_accepts_the_new_secret(pipeline, tmp_path):
    from webhookctl.handlers.webhook_common.providers import PROVIDERS, InvalidSignature, sign_request

    # GIVEN Square's old key, then a new one from a file plus its notification URL
    url = "https://hooks.example.com/webhook/square"
    pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "square", input=OLD)
    (tmp_path / "key").write_text(f"{NEW}\n")
    result = pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "square",
                             "--from-file", str(tmp_path / "key"), "--option", f"notificationUrl={url}")
    assert result.exit_code == 0, result.output
    assert stored(pipeline) == {"square": {"secrets": [NEW, OLD], "notificationUrl": url}}
    # THEN what is stored verifies requests signed with the new key (and, during rotation, the old one)
    from webhookctl.handlers.webhook_common.secrets import usable_entries

    entry = usable_entries(json.dumps(stored(pipeline)))["square"]
    secrets, options = entry.secrets, entry.options
    body = b'{"event_id": "e1", "type": "payment.updated"}'
    for key in (NEW, OLD):
        signed_body, headers = sign_request("square", body, key, 1767225600, options)
        PROVIDERS["square"].verify({k.lower(): v for k, v in headers.items()}, signed_body, secrets, options,
                                   1767225600)
    _, forged = sign_request("square", body, "not-a-stored-key", 1767225600, options)
    with pytest.raises(InvalidSignature, match="matches no active"):
        PROVIDERS["square"].verify({k.lower(): v for k, v in forged.items()}, body, secrets, options, 1767225600)


@slow
def test_unknown_provider_is_a_usage_error_listing_the_valid_ones(pipeline):
    result = pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "stripey", input=NEW)
    assert result.exit_code == 2
    assert "unknown provider 'stripey': use one of adyen, checkout, github, paddle, razorpay, square, standard, " \
           "stripe" in result.stderr
    assert stored(pipeline) == {}


@slow
def test_empty_secret_is_refused_and_nothing_is_written(pipeline):
    result = pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "stripe", input="  \n")
    assert result.exit_code == 2
    assert "the secret is empty" in result.stderr
    assert stored(pipeline) == {}


@slow
@pytest.mark.parametrize(("provider", "secret", "rule"), [
    ("adyen", "not-hex-at-all", "an Adyen HMAC key is hexadecimal"),
    ("standard", "whsec_not base64!!", "a Standard Webhooks secret is whsec_ followed by base64"),
])
@slow
def test_a_secret_the_receiver_could_never_use_is_refused(pipeline, provider, secret, rule):
    result = pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", provider, input=secret)
    assert result.exit_code == 2
    assert f"not a {provider} signing secret: {rule}" in result.stderr
    assert secret not in result.output
    assert stored(pipeline) == {}


@slow
def test_remove_keep_newest_then_provider(pipeline):
    pipeline.secretsmanager.put_secret_value(SecretId=pipeline.outputs["SigningSecretArn"],
                                             SecretString=json.dumps({"stripe": [NEW, OLD], "github": ["g"]}))
    refused = pipeline.invoke("secrets", "remove", "--suffix", SUFFIX, "--provider", "stripe")
    assert refused.exit_code == 1 and "pass --yes" in refused.stderr
    trimmed = pipeline.invoke("secrets", "remove", "--suffix", SUFFIX, "--provider", "stripe", "--keep-newest",
                              "--yes")
    assert trimmed.exit_code == 0, trimmed.output
    assert stored(pipeline) == {"stripe": [NEW], "github": ["g"]}
    gone = pipeline.invoke("secrets", "remove", "--suffix", SUFFIX, "--provider", "stripe", "--yes")
    assert gone.exit_code == 0
    assert stored(pipeline) == {"github": ["g"]}
    assert "whsec" not in trimmed.output + gone.output


@slow
def test_a_secret_that_is_not_a_json_object_is_never_overwritten(pipeline):
    pipeline.secretsmanager.put_secret_value(SecretId=pipeline.outputs["SigningSecretArn"],
                                             SecretString="plain-text-secret")
    result = pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "stripe", input=NEW)
    assert result.exit_code == 1
    assert "does not hold a JSON object of provider -> secrets; refusing to use or overwrite it" in result.stderr
    assert "plain-text-secret" not in result.output


@slow
def test_after_secrets_set_the_receiver_accepts_the_new_secret_and_enqueues(pipeline):
    import receiver
    from webhook_common import runtime
    from webhook_common.secrets import SecretsCache

    from webhookctl.handlers.webhook_common.providers import sign_request

    # GIVEN the receiver wired to this pipeline (table, queue, signing secret) and a rotation to NEW
    dynamodb = pipeline.aws("dynamodb")
    from tests.conftest import table_definition

    dynamodb.create_table(TableName=f"PaymentWebhooks-{SUFFIX}", **table_definition())
    arn = pipeline.outputs["SigningSecretArn"]
    cache = SecretsCache(lambda: pipeline.secretsmanager.get_secret_value(SecretId=arn)["SecretString"], ttl=0)
    config = runtime.ReceiverConfig(f"PaymentWebhooks-{SUFFIX}", pipeline.queue_url, arn, event_ttl_days=30,
                                    replay_guard_days=400, secrets_cache_seconds=0)
    now = int(time.time())
    deps = receiver.Deps(dynamodb, pipeline.sqs, cache, config, clock=lambda: now)
    for secret in (OLD, NEW):
        assert pipeline.invoke("secrets", "set", "--suffix", SUFFIX, "--provider", "stripe",
                               input=secret).exit_code == 0

    def delivery(secret, event_id):
        body = json.dumps({"id": event_id, "type": "charge.refunded", "data": {"object": {}}}).encode()
        body, headers = sign_request("stripe", body, secret, now)
        return {"httpMethod": "POST", "pathParameters": {"provider": "stripe"}, "headers": headers,
                "body": body.decode(), "isBase64Encoded": False, "path": "/webhook/stripe",
                "requestContext": {"domainName": "hooks.example.com", "path": "/prod/webhook/stripe"}}

    # WHEN deliveries arrive signed with the new secret, and with one that was never stored
    accepted = receiver.receive(delivery(NEW, "evt_new"), deps)
    forged = receiver.receive(delivery("whsec_forged", "evt_forged"), deps)
    # THEN the new secret verifies (and the event is enqueued with its routing attributes); the forgery does not
    assert (accepted["statusCode"], forged["statusCode"]) == (200, 401)
    [message] = drain(pipeline.sqs, pipeline.queue_url)
    assert {k: v["StringValue"] for k, v in message["MessageAttributes"].items()} == {
        "provider": "stripe", "eventType": "charge.refunded"}
