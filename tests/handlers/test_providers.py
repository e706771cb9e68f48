"""Each provider's verifier and signer against the provider's own SDK, or known-answer vectors where the SDK is
not installable here (Adyen, Square: vectors from their SDKs' test suites; GitHub: its docs' vector;
Checkout.com: its documented recipe, hex HMAC-SHA256 of the raw body, on RFC 4231's test case 2).
"""

from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace

import pytest
import razorpay
import standardwebhooks
import stripe
from paddle_billing.Notifications import Secret, Verifier
from webhook_common.providers import PROVIDERS, adyen_signing_string, sign_request
from webhook_common.verification import InvalidSignature, MissingSignature, StaleTimestamp

from .conftest import OPTIONS, SECRETS
from .samples import ADYEN_AUTHORISATION_ITEM, STRIPE_SUCCEEDED

NOW = 1_700_000_000
BODY = json.dumps(STRIPE_SUCCEEDED, indent=2).encode()  # pretty-printed: verification must not re-serialise


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def verify(provider: str, headers: dict, body: bytes, secrets: list[str], now: int = NOW) -> None:
    PROVIDERS[provider].verify(lower(headers), body, secrets, OPTIONS.get(provider, {}), now)


def sign(provider: str, body: bytes = BODY, secret: str | None = None, now: int = NOW) -> tuple[bytes, dict]:
    return sign_request(provider, body, secret or SECRETS[provider], now, OPTIONS.get(provider, {}))


# --- our signatures verify with the providers' SDKs ----------------------------------------------------------


def test_stripe_signature_verifies_with_stripe_sdk():
    # GIVEN a body signed the way Stripe signs, timestamped now
    now = int(time.time())
    body, headers = sign("stripe", now=now)
    # WHEN/THEN stripe-python accepts it (raises otherwise), and rejects a different secret
    assert stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], SECRETS["stripe"], 300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], "whsec_other", 300)


def test_standard_signature_verifies_with_standardwebhooks_library():
    now = int(time.time())
    body, headers = sign("standard", now=now)
    payload = standardwebhooks.Webhook(SECRETS["standard"]).verify(body, headers)
    assert payload == STRIPE_SUCCEEDED


def test_razorpay_signature_verifies_with_razorpay_sdk():
    body, headers = sign("razorpay")
    utility = razorpay.Utility()
    assert utility.verify_webhook_signature(body.decode(), headers["X-Razorpay-Signature"], SECRETS["razorpay"])


def test_paddle_signature_verifies_with_paddle_sdk():
    now = int(time.time())
    body, headers = sign("paddle", now=now)
    request = SimpleNamespace(headers=headers, body=body)
    assert Verifier().verify(request, Secret(SECRETS["paddle"])) is True
    assert Verifier().verify(request, Secret("pdl_ntfset_other")) is False


# --- the SDKs' signatures verify with our verifiers ---------------------------------------------------------


def test_stripe_sdk_header_verifies():
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRETS["stripe"], NOW)
    verify("stripe", {"Stripe-Signature": header}, BODY, [SECRETS["stripe"]])


def test_stripe_header_with_several_v1_and_a_v0_verifies_on_any_v1():
    good = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRETS["stripe"], NOW)
    mac = good.split("v1=")[1]
    header = f"t={NOW},v1={'0' * 64},v0={mac},v1={mac}"
    verify("stripe", {"Stripe-Signature": header}, BODY, [SECRETS["stripe"]])


def test_standardwebhooks_library_signature_verifies():
    from datetime import UTC, datetime

    library = standardwebhooks.Webhook(SECRETS["standard"])
    signature = library.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(NOW, UTC), BODY.decode())
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": str(NOW),
        "webhook-signature": f"v1a,bm90IGEgc2lnbmF0dXJl {signature}",
    }
    verify("standard", headers, BODY, [SECRETS["standard"]])


def test_paddle_sdk_hmac_verifies_with_several_h1():
    from paddle_billing.Notifications import PaddleSignature

    mac = PaddleSignature.calculate_hmac(SECRETS["paddle"], f"{NOW}:{BODY.decode()}".encode()).hexdigest()
    verify("paddle", {"Paddle-Signature": f"ts={NOW};h1={'f' * 64};h1={mac}"}, BODY, [SECRETS["paddle"]])


# --- known-answer vectors -----------------------------------------------------------------------------------


def test_adyen_vector_from_adyen_python_library():
    # GIVEN the notification item and HMAC key from Adyen's own test suite (test/UtilTest.py)
    body = json.dumps({"live": "false", "notificationItems": [{"NotificationRequestItem": ADYEN_AUTHORISATION_ITEM}]})
    # THEN the signing string and our verification agree with Adyen's expected hmacSignature
    assert adyen_signing_string(ADYEN_AUTHORISATION_ITEM) == (
        "7914073381342284::TestMerchant:TestPayment-1407325143704:1130:EUR:AUTHORISATION:true"
    )
    verify("adyen", {}, body.encode(), [SECRETS["adyen"]])


def test_adyen_vector_with_colons_in_fields_is_not_escaped():
    # adyen-python-api-library test/mocks/util/colon_notification.json, signed by Adyen with this key
    item = {
        "additionalData": {"hmacSignature": "2EQYm7YJpKO4EtHSPu55SQTyWf8dkW5u2nD1tJFpViA="},
        "amount": {"currency": "EUR", "value": 1000},
        "eventCode": "AUTHORISATION",
        "eventDate": "2023-01-10T13:40:54+01:00",
        "merchantAccountCode": "AntoniStroinski",
        "merchantReference": ":slashes are fun",
        "paymentMethod": "visa",
        "pspReference": "M8NB66SBZSGLNK82",
        "reason": "039404:1111:03/2030",
        "success": "true",
    }
    body = json.dumps({"notificationItems": [{"NotificationRequestItem": item}]}).encode()
    verify("adyen", {}, body, ["74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"])


def test_adyen_batch_is_rejected_when_any_item_is_unsigned():
    # GIVEN a batch whose first item is validly signed and whose second is forged
    signed = json.loads(
        PROVIDERS["adyen"].embed(
            json.dumps({"notificationItems": [{"NotificationRequestItem": {**ADYEN_AUTHORISATION_ITEM}}]}).encode(),
            SECRETS["adyen"],
        )
    )
    forged = {**ADYEN_AUTHORISATION_ITEM, "amount": {"currency": "EUR", "value": 999999}}
    signed["notificationItems"].append({"NotificationRequestItem": forged})
    # THEN the batch fails (Adyen's own library would check only the first item)
    with pytest.raises(InvalidSignature):
        verify("adyen", {}, json.dumps(signed).encode(), [SECRETS["adyen"]])


def test_square_vector_from_square_python_sdk():
    # square-python-sdk tests/utilities/test_webhooks_helper.py
    body = (
        b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":'
        b'"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":'
        b'{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
    )
    headers = {"x-square-hmacsha256-signature": "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="}
    url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
    PROVIDERS["square"].verify(headers, body, ["Ibxx_5AKakO-3qeNVR61Dw"], {"notificationUrl": url}, NOW)
    # the SDK's negative cases: another URL, another key
    with pytest.raises(InvalidSignature):
        PROVIDERS["square"].verify(headers, body, ["Ibxx_5AKakO-3qeNVR61Dw"], {"notificationUrl": url[:-1]}, NOW)
    with pytest.raises(InvalidSignature):
        PROVIDERS["square"].verify(headers, body, ["MCmhFRxGX82xMwg5FsaoQA"], {"notificationUrl": url}, NOW)
    # and our signer reproduces the vector
    assert PROVIDERS["square"].sign(body, "Ibxx_5AKakO-3qeNVR61Dw", NOW, {"notificationUrl": url}) == headers


def test_github_vector_from_github_docs():
    # docs.github.com "Validating webhook deliveries": this secret and payload give this signature
    headers = {"X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}
    verify("github", headers, b"Hello, World!", ["It's a Secret to Everybody"])
    assert (
        PROVIDERS["github"].sign(b"Hello, World!", "It's a Secret to Everybody", NOW, {})["X-Hub-Signature-256"]
        == headers["X-Hub-Signature-256"]
    )


def test_checkout_recipe_on_rfc4231_vector():
    # Cko-Signature = hex(HMAC-SHA256(key, raw body)); RFC 4231 test case 2 fixes the expected value
    headers = {"Cko-Signature": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"}
    verify("checkout", headers, b"what do ya want for nothing?", ["Jefe"])
    assert PROVIDERS["checkout"].sign(b"what do ya want for nothing?", "Jefe", NOW, {}) == headers


def test_checkout_checks_the_configured_authorization_header():
    body, headers = sign_request("checkout", BODY, "key", NOW, {"authorization": "Bearer s3cret"})
    PROVIDERS["checkout"].verify(lower(headers), body, ["key"], {"authorization": "Bearer s3cret"}, NOW)
    with pytest.raises(InvalidSignature, match="Authorization"):
        PROVIDERS["checkout"].verify(lower(headers), body, ["key"], {"authorization": "Bearer other"}, NOW)


# --- every provider: round trip, tampering, missing signature, rotation -------------------------------------

ALL = sorted(PROVIDERS)
ADYEN_BODY = json.dumps(
    {
        "live": "false",
        "notificationItems": [
            {"NotificationRequestItem": {k: v for k, v in ADYEN_AUTHORISATION_ITEM.items() if k != "additionalData"}}
        ],
    }
)


def body_for(provider: str) -> bytes:
    return ADYEN_BODY.encode() if provider == "adyen" else BODY


def tamper(body: bytes) -> bytes:
    # one changed digit of the amount: still valid JSON, no longer what was signed
    return body.replace(b"1130", b"1131", 1) if b"1130" in body else body.replace(b"2000", b"2001", 1)


@pytest.mark.parametrize("provider", ALL)
def test_signed_body_verifies(provider):
    body, headers = sign(provider, body_for(provider))
    verify(provider, headers, body, [SECRETS[provider]])


@pytest.mark.parametrize("provider", ALL)
def test_tampered_body_is_rejected(provider):
    body, headers = sign(provider, body_for(provider))
    assert tamper(body) != body
    with pytest.raises(InvalidSignature):
        verify(provider, headers, tamper(body), [SECRETS[provider]])


@pytest.mark.parametrize("provider", ALL)
def test_wrong_secret_is_rejected(provider):
    other = {"standard": "whsec_" + base64.b64encode(b"another key entirely!").decode(), "adyen": "00" * 32}.get(
        provider, "not-the-secret"
    )
    body, headers = sign(provider, body_for(provider), secret=other)
    with pytest.raises(InvalidSignature):
        verify(provider, headers, body, [SECRETS[provider]])


@pytest.mark.parametrize("provider", ALL)
def test_missing_signature_is_reported_as_missing(provider):
    body, _ = sign(provider, body_for(provider))
    unsigned = body if provider != "adyen" else ADYEN_BODY.encode()
    with pytest.raises(MissingSignature):
        verify(provider, {}, unsigned, [SECRETS[provider]])


ROTATION_SECRETS = {
    "standard": (
        "whsec_" + base64.b64encode(b"old-key-0123456789abcdef").decode(),
        "whsec_" + base64.b64encode(b"new-key-0123456789abcdef").decode(),
    ),
    "adyen": ("AA" * 32, "BB" * 32),
}


@pytest.mark.parametrize("provider", ALL)
def test_rotation_accepts_old_and_new_secret(provider):
    # GIVEN an old and a new secret both active
    old, new = ROTATION_SECRETS.get(provider, (f"{provider}-old", f"{provider}-new"))
    for secret in (old, new):
        # WHEN a delivery is signed with either THEN it verifies
        body, headers = sign(provider, body_for(provider), secret=secret)
        verify(provider, headers, body, [new, old])
    # AND once the old one is retired, its signatures no longer verify
    body, headers = sign(provider, body_for(provider), secret=old)
    with pytest.raises(InvalidSignature):
        verify(provider, headers, body, [new])


@pytest.mark.parametrize(("provider", "tolerance"), [("stripe", 300), ("standard", 300), ("paddle", 300)])
def test_stale_timestamp_is_rejected(provider, tolerance):
    body, headers = sign(provider, now=NOW - tolerance - 1)
    with pytest.raises(StaleTimestamp):
        verify(provider, headers, body, [SECRETS[provider]], now=NOW)
    body, headers = sign(provider, now=NOW - tolerance + 5)
    verify(provider, headers, body, [SECRETS[provider]], now=NOW)


@pytest.mark.parametrize("provider", ["standard", "paddle", "stripe"])
def test_timestamp_far_in_future_is_rejected(provider):
    # Stripe's own SDK accepts any future timestamp; a replay window that starts later is still one.
    body, headers = sign(provider, now=NOW + 301)
    with pytest.raises(StaleTimestamp, match="too far in the future"):
        verify(provider, headers, body, [SECRETS[provider]], now=NOW)
    body, headers = sign(provider, now=NOW + 299)
    verify(provider, headers, body, [SECRETS[provider]], now=NOW)


@pytest.mark.parametrize("header", ["t=abc,v1=00", "v1=00", "garbage", "t=1700000000"])
def test_malformed_stripe_header_is_invalid(header):
    with pytest.raises(InvalidSignature):
        verify("stripe", {"Stripe-Signature": header}, BODY, [SECRETS["stripe"]])


def test_non_ascii_signature_header_is_rejected_not_crashing():
    with pytest.raises(InvalidSignature):
        verify("razorpay", {"X-Razorpay-Signature": "é" * 64}, BODY, [SECRETS["razorpay"]])


def test_square_without_notification_url_uses_the_request_url():
    body, headers = sign_request("square", BODY, "key", NOW, {"notificationUrl": "https://a.example/x"})
    PROVIDERS["square"].verify(lower(headers), body, ["key"], {"requestUrl": "https://a.example/x"}, NOW)


@pytest.mark.parametrize("provider", ALL)
def test_event_id_and_type_extractors(provider):
    from .samples import SAMPLES

    sample = next(s for s in SAMPLES if s.provider == provider)
    headers = sample.headers or {}
    [part] = PROVIDERS[provider].split(sample.payload)
    assert PROVIDERS[provider].event_id(part, headers, json.dumps(part).encode())
    assert PROVIDERS[provider].event_type(part, headers) == sample.event_type


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_real_secrets_pass_the_stored_secret_check(provider):
    assert PROVIDERS[provider].secret_problem(SECRETS[provider]) is None


@pytest.mark.parametrize(("provider", "secret"), [("adyen", "xyz"), ("adyen", "abc"), ("standard", "whsec_"),
                                                  ("standard", "whsec_***")])
def test_secrets_no_verifier_could_use_are_named(provider, secret):
    assert PROVIDERS[provider].secret_problem(secret)
