"""Every supported payment provider in one table, `PROVIDERS`: how it signs, how we verify, what its event is.

A provider is one frozen `Provider` record: a verifier that follows the provider's own SDK step by step
(anchors §C.4), the event-id and event-type extractors, the signer a sender uses (`webhookctl send`, tests),
and the normaliser the processor applies. Adding a provider means writing its functions and adding one row
to `PROVIDERS`. Pure stdlib with relative imports only, so the CLI can import it as
`webhookctl.handlers.webhook_common.providers` without boto3.

Conventions: header names arrive lower-cased; `body` is the exact bytes received; `secrets` is the list of
active secrets (any one verifies: rotation); `options` is the provider's entry in the signing secret minus
`secrets` (e.g. Square's `notificationUrl`), plus `requestUrl`, the URL the request arrived at; `now` is
unix seconds. `verify` returns None or raises a `VerificationError` subclass.

Options understood: `notificationUrl` (square, verify and sign), `authorization` (checkout: the static
Authorization header value), `tolerance` (seconds; stripe, standard, paddle). Sender-only options for ids
that travel in headers, each defaulting to a hash of the body (so resending a body is the same event):
`msgId` (standard), `eventId` (razorpay), `event` and `delivery` (github). Adyen signs inside the body:
senders call `sign_request`, which applies `Provider.embed` before `Provider.sign`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import normalise as canon
from .verification import (
    InvalidSignature,
    MissingSignature,
    ProviderConfigError,
    any_match,
    as_bytes,
    b64_macs,
    check_window,
    header,
    hex_macs,
    hmac_sha256,
    unhex_keys,
)

Headers = Mapping[str, str]
Options = Mapping[str, Any]
Secrets = Sequence[str]

# Stripe's SDK default (stripe/_webhook.py DEFAULT_TOLERANCE).
STRIPE_TOLERANCE = 300
# Standard Webhooks: 5 minutes both ways (standardwebhooks/webhooks.py).
STANDARD_TOLERANCE = 300
# Paddle's SDK allows 5 s, too tight for retries and clock skew; anchors §C.1 recommends about 5 minutes.
PADDLE_TOLERANCE = 300


def _unchanged(body: bytes, secret: str) -> bytes:
    return body


def _whole(payload: Any) -> list[Any]:
    return [payload]


@dataclass(frozen=True)
class Provider:
    """How one provider signs and what its events look like. See the module docstring for the conventions."""

    name: str
    verify: Callable[[Headers, bytes, Secrets, Options, int], None]
    # The event's identity, from signed content only: the payload (part), a header the signature covers,
    # or the signed bytes themselves.
    event_id: Callable[[Any, Headers, bytes], Any]
    event_type: Callable[[Any, Headers], Any]
    sign: Callable[[bytes, str, int, Options], dict[str, str]]
    normalise: Callable[[Any, str], canon.Canonical | None]
    # The event's own time, in unix seconds, where the provider signs one (body or signed header); None
    # for providers that sign no time (Adyen, GitHub): only a tombstone tells their replays apart.
    signed_time: Callable[[Any, Headers], int | None] | None = None
    # One stored event per part: Adyen batches several NotificationRequestItems in one request.
    split: Callable[[Any], list[Any]] = _whole
    # An id the provider sends outside the signed bytes (a header), kept for reference only.
    unsigned_id: Callable[[Headers], str | None] = lambda headers: None
    # Providers that sign inside the body (Adyen) rewrite it before sending; the rest leave it as is.
    embed: Callable[[bytes, str], bytes] = _unchanged
    # Why a secret cannot be one of this provider's keys (checked when it is stored), or None.
    secret_problem: Callable[[str], str | None] = lambda secret: None
    # The answer body the provider expects on success (Adyen: "[accepted]"), or None for our JSON.
    accepted_body: str | None = None


def _field(payload: Any, *path: str) -> Any:
    """payload[path[0]][path[1]]..., or None when any step is missing or not an object."""
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _body_id(prefix: str, body: bytes) -> str:
    """A stable stand-in for ids some providers send in headers: resending the same body is the same event."""
    return prefix + hashlib.sha256(body).hexdigest()[:24]


def _tolerance(options: Options, default: int) -> int:
    value = options.get("tolerance", default)
    return value if isinstance(value, int) and value > 0 else default


# --- Stripe: Stripe-Signature "t=<unix>,v1=<hex>[,v1=...]" over "{t}.{body}" -------------------------------


def _timestamped_signatures(value: str, separator: str, time_key: str, scheme: str,
                            header_name: str) -> tuple[int, list[str]]:
    """Stripe's "t=..,v1=..,v1=.." and Paddle's "ts=..;h1=..": one timestamp, any number of signatures."""
    timestamp, signatures = None, []
    for item in value.split(separator):
        key, _, part = item.strip().partition("=")
        if key == time_key:
            timestamp = part
        elif key == scheme:
            signatures.append(part)
    try:
        return int(timestamp), signatures
    except (TypeError, ValueError):
        raise InvalidSignature(f"{header_name} has no valid timestamp ({time_key}=)") from None


def _stripe_parts(value: str) -> tuple[int, list[str]]:
    return _timestamped_signatures(value, ",", "t", "v1", "Stripe-Signature")


def verify_stripe(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    timestamp, signatures = _stripe_parts(header(headers, "stripe-signature", "Stripe-Signature"))
    if not signatures:
        raise InvalidSignature("no signatures found with expected scheme v1")
    if not any_match(hex_macs(secrets, f"{timestamp}.".encode() + body), signatures):
        raise InvalidSignature("no Stripe-Signature v1 matches an active secret")
    # Stripe's SDK rejects only the past; a timestamp far in the future is refused too (a replay window
    # that starts later is still a replay window).
    check_window(timestamp, now, _tolerance(options, STRIPE_TOLERANCE), future=True)


def sign_stripe(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    mac = hmac_sha256(secret.encode(), f"{now}.".encode() + body).hex()
    return {"Stripe-Signature": f"t={now},v1={mac}"}


# --- Standard Webhooks / Svix: webhook-id, webhook-timestamp, webhook-signature "v1,<b64> ..." -------------


def _standard_key(secret: str) -> bytes:
    # As the reference library: strip "whsec_", then base64 with padding added (b64decode skips extra "=").
    try:
        return base64.b64decode(secret.removeprefix("whsec_") + "==")
    except (binascii.Error, ValueError):
        return b""


def _standard_secret_problem(secret: str) -> str | None:
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    return None if key else "a Standard Webhooks secret is whsec_ followed by base64 (e.g. whsec_MfKQ9r8G...)"


def _standard_signatures(value: str) -> list[str]:
    signatures = []
    for entry in value.split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and signature:
            signatures.append(signature)
    return signatures


def _standard_timestamp(value: str) -> int:
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidSignature("webhook-timestamp is not a unix timestamp") from None
    if not math.isfinite(seconds):
        raise InvalidSignature("webhook-timestamp is not a unix timestamp")
    return math.floor(seconds)


def verify_standard(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    msg_id = header(headers, "webhook-id", "webhook-id")
    timestamp = _standard_timestamp(header(headers, "webhook-timestamp", "webhook-timestamp"))
    presented = _standard_signatures(header(headers, "webhook-signature", "webhook-signature"))
    check_window(timestamp, now, _tolerance(options, STANDARD_TOLERANCE), future=True)
    keys = [k for k in map(_standard_key, secrets) if k]
    # Signatures are compared as decoded bytes, like the reference library, so padding variants still match.
    expected = [base64.b64encode(hmac_sha256(k, f"{msg_id}.{timestamp}.".encode() + body)) for k in keys]
    if not any_match(expected, [_reencode_b64(s) for s in presented]):
        raise InvalidSignature("no webhook-signature v1 matches an active secret")


def _reencode_b64(signature: str) -> str:
    try:
        return base64.b64encode(base64.b64decode(as_bytes(signature))).decode()
    except (binascii.Error, ValueError):
        return "?"


def sign_standard(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    msg_id = options.get("msgId") or _body_id("msg_", body)
    mac = base64.b64encode(hmac_sha256(_standard_key(secret), f"{msg_id}.{now}.".encode() + body)).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": f"v1,{mac}"}


# --- Square: x-square-hmacsha256-signature = b64 HMAC(key, notification URL + body) ------------------------


def _square_url(options: Options) -> str:
    url = options.get("notificationUrl") or options.get("requestUrl")
    if not url:
        raise ProviderConfigError("square needs notificationUrl in its signing-secret entry")
    return url


def verify_square(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    presented = header(headers, "x-square-hmacsha256-signature", "x-square-hmacsha256-signature")
    if not body:
        raise InvalidSignature("empty body cannot carry a Square signature")
    message = _square_url(options).encode() + body
    if not any_match(b64_macs((s.encode() for s in secrets), message), [presented]):
        raise InvalidSignature("x-square-hmacsha256-signature matches no active signature key")


def sign_square(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    mac = base64.b64encode(hmac_sha256(secret.encode(), _square_url(options).encode() + body)).decode()
    return {"x-square-hmacsha256-signature": mac}


# --- Adyen: additionalData.hmacSignature inside every NotificationRequestItem ------------------------------

ADYEN_SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",
    "currency",
    "eventCode",
    "success",
)


def adyen_signing_string(item: dict) -> str:
    """The 8 fields joined with ':' (missing ones empty), exactly as Adyen/util.py builds them."""
    amount = item.get("amount") if isinstance(item.get("amount"), dict) else {}
    fields = {**item, "value": amount.get("value", ""), "currency": amount.get("currency", "")}
    return ":".join(str(fields.get(name, "")) for name in ADYEN_SIGNED_FIELDS)


def _adyen_items(body: bytes) -> list[dict]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # unverified input: a deeply nested body must not become a 500
        raise MissingSignature("Adyen notifications are JSON; no hmacSignature found") from None
    entries = _field(document, "notificationItems")
    items = [_field(e, "NotificationRequestItem") for e in entries] if isinstance(entries, list) else []
    if not items or not all(isinstance(i, dict) for i in items):
        raise MissingSignature("no NotificationRequestItem to verify")
    return items


def _adyen_secret_problem(secret: str) -> str | None:
    return None if unhex_keys([secret]) else "an Adyen HMAC key is hexadecimal (Customer Area > Webhooks)"


def verify_adyen(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    keys = unhex_keys(secrets)
    # Adyen's own library checks only the first item; a batch is trusted only if every item verifies.
    for item in _adyen_items(body):
        presented = _field(item, "additionalData", "hmacSignature")
        if not isinstance(presented, str) or not presented:
            raise MissingSignature("a NotificationRequestItem has no additionalData.hmacSignature")
        if not any_match(b64_macs(keys, adyen_signing_string(item).encode()), [presented]):
            raise InvalidSignature("an hmacSignature matches no active HMAC key")


def embed_adyen(body: bytes, secret: str) -> bytes:
    document = json.loads(body)
    key = binascii.a2b_hex(secret)
    for entry in document["notificationItems"]:
        item = entry["NotificationRequestItem"]
        mac = base64.b64encode(hmac_sha256(key, adyen_signing_string(item).encode())).decode()
        item.setdefault("additionalData", {})["hmacSignature"] = mac
    return json.dumps(document, separators=(",", ":")).encode()


def sign_adyen(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    return {}  # the signature travels inside the body: see embed_adyen


def _adyen_parts(payload: Any) -> list[Any]:
    """Each NotificationRequestItem as a one-item notification of its own (verify_adyen checked them all)."""
    return [{"live": _field(payload, "live"), "notificationItems": [entry]}
            for entry in _field(payload, "notificationItems") or []]


def _adyen_item(part: Any) -> dict:
    item = _field((_field(part, "notificationItems") or [{}])[0], "NotificationRequestItem")
    return item if isinstance(item, dict) else {}


def _adyen_event_id(part: Any, headers: Headers, signed: bytes) -> str | None:
    # Adyen has no event id: eventCode, pspReference, success and the merchant account identify a
    # notification (all four are among the HMAC's signed fields).
    item = _adyen_item(part)
    if not item.get("pspReference"):
        return None
    return ":".join(str(item.get(k, "")) for k in ("eventCode", "pspReference", "success", "merchantAccountCode"))


# --- Checkout.com: Cko-Signature = hex HMAC(key, body); optional static Authorization header ---------------


def verify_checkout(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    presented = header(headers, "cko-signature", "Cko-Signature")
    expected_auth = options.get("authorization")
    if expected_auth and not any_match([as_bytes(expected_auth)], [headers.get("authorization", "")]):
        raise InvalidSignature("Authorization header does not match the configured value")
    if not any_match(hex_macs(secrets, body), [presented]):
        raise InvalidSignature("Cko-Signature matches no active signature key")


def sign_checkout(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    signed = {"Cko-Signature": hmac_sha256(secret.encode(), body).hex()}
    if options.get("authorization"):
        signed["Authorization"] = options["authorization"]
    return signed


# --- Razorpay: X-Razorpay-Signature = hex HMAC(webhook secret, body) ---------------------------------------


def verify_razorpay(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    presented = header(headers, "x-razorpay-signature", "X-Razorpay-Signature")
    if not any_match(hex_macs(secrets, body), [presented]):
        raise InvalidSignature("X-Razorpay-Signature matches no active webhook secret")


def sign_razorpay(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    return {
        "X-Razorpay-Signature": hmac_sha256(secret.encode(), body).hex(),
        "X-Razorpay-Event-Id": options.get("eventId") or _body_id("evt_", body),
    }


# --- Paddle Billing: Paddle-Signature "ts=<unix>;h1=<hex>[;h1=...]" over "{ts}:{body}" ----------------------


def _paddle_parts(value: str) -> tuple[int, list[str]]:
    return _timestamped_signatures(value, ";", "ts", "h1", "Paddle-Signature")


def verify_paddle(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    timestamp, signatures = _paddle_parts(header(headers, "paddle-signature", "Paddle-Signature"))
    if not signatures:
        raise InvalidSignature("Paddle-Signature has no h1 signature")
    check_window(timestamp, now, _tolerance(options, PADDLE_TOLERANCE), future=True)
    if not any_match(hex_macs(secrets, f"{timestamp}:".encode() + body), signatures):
        raise InvalidSignature("no Paddle-Signature h1 matches an active secret")


def sign_paddle(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    mac = hmac_sha256(secret.encode(), f"{now}:".encode() + body).hex()
    return {"Paddle-Signature": f"ts={now};h1={mac}"}


# --- GitHub: X-Hub-Signature-256 = "sha256=" + hex HMAC(secret, body) --------------------------------------


def verify_github(headers: Headers, body: bytes, secrets: Secrets, options: Options, now: int) -> None:
    presented = header(headers, "x-hub-signature-256", "X-Hub-Signature-256")
    expected = [b"sha256=" + mac for mac in hex_macs(secrets, body)]
    if not any_match(expected, [presented]):
        raise InvalidSignature("X-Hub-Signature-256 matches no active webhook secret")


def sign_github(body: bytes, secret: str, now: int, options: Options) -> dict[str, str]:
    delivery = options.get("delivery") or str(uuid.UUID(hashlib.sha256(body).hexdigest()[:32]))
    return {
        "X-Hub-Signature-256": "sha256=" + hmac_sha256(secret.encode(), body).hex(),
        "X-GitHub-Event": options.get("event", "ping"),
        "X-GitHub-Delivery": delivery,
    }


# The payment events GitHub sends name themselves in the signed body; X-GitHub-Event is not signed.
GITHUB_BODY_EVENTS = ("marketplace_purchase", "sponsorship")


def _github_event_type(payload: Any, headers: Headers) -> str | None:
    event = next((k for k in GITHUB_BODY_EVENTS if isinstance(_field(payload, k), dict)), None)
    event = event or headers.get("x-github-event")
    action = _field(payload, "action")
    return f"{event}.{action}" if event and isinstance(action, str) else event


# --- The table ---------------------------------------------------------------------------------------------


def _payload(*path: str) -> Callable[[Any, Any], Any]:
    return lambda payload, *rest: _field(payload, *path)


def _digest_id(payload: Any, headers: Headers, signed: bytes) -> str:
    """For providers whose only id travels in an unsigned header (Razorpay, GitHub): the signed bytes'
    digest, so a captured body re-sent under fresh ids is the same event, and no genuine event can be
    pre-empted by a replay carrying its id."""
    return "sha256:" + hashlib.sha256(signed).hexdigest()[:32]


def _header(name: str) -> Callable[[Headers], str | None]:
    return lambda headers: headers.get(name)


def _body_time(*path: str) -> Callable[[Any, Headers], int | None]:
    return lambda payload, headers: canon.epoch_seconds(_field(payload, *path))


def _header_time(name: str, parse: Callable[[str], int]) -> Callable[[Any, Headers], int | None]:
    def signed_time(payload: Any, headers: Headers) -> int | None:
        try:
            return parse(headers.get(name, ""))
        except (InvalidSignature, ValueError):
            return None

    return signed_time


def _adyen_event_type(payload: Any, headers: Headers) -> Any:
    return _field(_adyen_item(payload), "eventCode")


PROVIDERS: dict[str, Provider] = {p.name: p for p in (
    Provider("stripe", verify_stripe, _payload("id"), _payload("type"), sign_stripe, canon.stripe,
             signed_time=_header_time("stripe-signature", lambda v: _stripe_parts(v)[0])),
    # webhook-id is part of what Standard Webhooks signs ("{id}.{timestamp}.{body}").
    Provider("standard", verify_standard, lambda payload, headers, signed: headers.get("webhook-id"),
             _payload("type"), sign_standard, canon.generic, secret_problem=_standard_secret_problem,
             signed_time=_header_time("webhook-timestamp", _standard_timestamp)),
    Provider("square", verify_square, _payload("event_id"), _payload("type"), sign_square, canon.square,
             signed_time=_body_time("created_at")),
    Provider("adyen", verify_adyen, _adyen_event_id, _adyen_event_type, sign_adyen, canon.adyen,
             split=_adyen_parts, embed=embed_adyen, secret_problem=_adyen_secret_problem,
             accepted_body="[accepted]"),
    Provider("checkout", verify_checkout, _payload("id"), _payload("type"), sign_checkout, canon.checkout,
             signed_time=_body_time("created_on")),
    Provider("razorpay", verify_razorpay, _digest_id, _payload("event"), sign_razorpay, canon.razorpay,
             signed_time=_body_time("created_at"), unsigned_id=_header("x-razorpay-event-id")),
    Provider("paddle", verify_paddle, _payload("event_id"), _payload("event_type"), sign_paddle, canon.paddle,
             signed_time=_header_time("paddle-signature", lambda v: _paddle_parts(v)[0])),
    Provider("github", verify_github, _digest_id, _github_event_type, sign_github, canon.github,
             unsigned_id=_header("x-github-delivery")),
)}


def sign_request(
    provider: str, body: bytes, secret: str, now: int, options: Options | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers `provider` would send for `body`: what a sender (`webhookctl send`) posts."""
    entry = PROVIDERS[provider]
    signed_body = entry.embed(body, secret)
    return signed_body, entry.sign(signed_body, secret, now, options or {})
