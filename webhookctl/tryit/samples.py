"""Realistic sample events in each provider's own shape, for `webhookctl send`.

Pure: no I/O, no AWS. Ids and the clock are parameters so tests get the same bytes every time.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from webhookctl.handlers.webhook_common.contract import names

KINDS = ("payment_succeeded", "payment_failed", "refund", "dispute")
PROVIDERS = names.PROVIDERS

Token = Callable[[int], str]


@dataclass(frozen=True)
class Sample:
    """One event as the provider would send it, before signing."""

    provider: str
    kind: str
    event_id: str
    event_type: str
    body: bytes
    # A string inside the signed bytes (the payment reference): --tamper alters it.
    reference: str
    # Provider headers that are not part of the signature.
    headers: dict[str, str] = field(default_factory=dict)
    # Ids the provider's signer puts in signed headers (Standard Webhooks' msgId, GitHub's delivery...).
    sign_options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Money:
    amount: int = 2599
    currency: str = "USD"


def iso(now: int) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def encode(payload: dict[str, Any]) -> bytes:
    """Compact, like the providers send: the body is signed as these exact bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()


def sample_event(provider: str, kind: str, *, now: int, token: Token = secrets.token_hex,
                 money: Money = Money()) -> Sample:
    """A fresh event (unique ids) of KIND in PROVIDER's shape."""
    if provider not in BUILDERS:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown event type {kind!r}; known: {', '.join(KINDS)}")
    return BUILDERS[provider](kind, now, token, money)


# --- Stripe: an Event wrapping the affected object (https://docs.stripe.com/api/events/object).
STRIPE_TYPES = {"payment_succeeded": "payment_intent.succeeded",
                "payment_failed": "payment_intent.payment_failed", "refund": "charge.refunded",
                "dispute": "charge.dispute.created"}


def stripe_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    intent, charge = f"pi_{token(12)}", f"ch_{token(12)}"
    event_id, event_type = f"evt_{token(12)}", STRIPE_TYPES[kind]
    obj = _stripe_object(kind, now, token, money, intent, charge)
    payload = {"id": event_id, "object": "event", "api_version": "2024-06-20", "created": now,
               "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
               "request": {"id": f"req_{token(7)}", "idempotency_key": token(16)}, "type": event_type}
    return Sample("stripe", kind, event_id, event_type, encode(payload), intent)


def _stripe_object(kind: str, now: int, token: Token, money: Money, intent: str, charge: str) -> dict:
    currency = money.currency.lower()
    if kind == "refund":
        return {"id": charge, "object": "charge", "amount": money.amount, "amount_captured": money.amount,
                "amount_refunded": money.amount, "currency": currency, "created": now,
                "payment_intent": intent, "refunded": True, "status": "succeeded"}
    if kind == "dispute":
        return {"id": f"dp_{token(12)}", "object": "dispute", "amount": money.amount, "currency": currency,
                "charge": charge, "created": now, "payment_intent": intent, "reason": "fraudulent",
                "status": "needs_response"}
    failed = kind == "payment_failed"
    error = {"code": "card_declined", "decline_code": "insufficient_funds", "type": "card_error"}
    return {"id": intent, "object": "payment_intent", "amount": money.amount,
            "amount_received": 0 if failed else money.amount, "currency": currency, "created": now,
            "latest_charge": charge, "last_payment_error": error if failed else None,
            "status": "requires_payment_method" if failed else "succeeded"}


# --- Adyen: a standard notification, one item (https://docs.adyen.com/development-resources/webhooks).
ADYEN_CODES = {"payment_succeeded": ("AUTHORISATION", "true"), "payment_failed": ("AUTHORISATION", "false"),
               "refund": ("REFUND", "true"), "dispute": ("CHARGEBACK", "true")}


def adyen_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    code, success = ADYEN_CODES[kind]
    psp = token(8).upper().ljust(16, "0")
    item = {"additionalData": {}, "amount": {"currency": money.currency, "value": money.amount},
            "eventCode": code, "eventDate": iso(now).replace(".000Z", "+00:00"),
            "merchantAccountCode": "WebhookctlECOM", "merchantReference": f"order-{token(4)}",
            "paymentMethod": "visa", "pspReference": psp, "reason": "" if success == "true" else "Refused",
            "success": success}
    if kind in ("refund", "dispute"):
        item["originalReference"] = token(8).upper().ljust(16, "0")
    payload = {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}
    # Adyen has no event id: pspReference + eventCode identifies a notification.
    return Sample("adyen", kind, f"{psp}:{code}", code, encode(payload), psp)


# --- Square: https://developer.squareup.com/reference/square/webhooks
SQUARE_TYPES = {"payment_succeeded": "payment.updated", "payment_failed": "payment.updated",
                "refund": "refund.updated", "dispute": "dispute.created"}


def square_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    payment, event_id, event_type = token(12).upper(), _uuid(token), SQUARE_TYPES[kind]
    amount_money = {"amount": money.amount, "currency": money.currency}
    object_type, obj = _square_object(kind, now, token, amount_money, payment)
    payload = {"merchant_id": "MLWEBHOOKCTL", "type": event_type, "event_id": event_id,
               "created_at": iso(now), "data": {"type": object_type, "id": obj["id"],
                                                 "object": {object_type: obj}}}
    return Sample("square", kind, event_id, event_type, encode(payload), payment)


def _square_object(kind: str, now: int, token: Token, amount_money: dict, payment: str) -> tuple[str, dict]:
    if kind == "refund":
        return "refund", {"id": f"{payment}_{token(8).upper()}", "amount_money": amount_money,
                          "payment_id": payment, "status": "COMPLETED", "created_at": iso(now)}
    if kind == "dispute":
        dispute = token(11).upper()
        return "dispute", {"id": dispute, "dispute_id": dispute, "amount_money": amount_money,
                           "reason": "NOT_AS_DESCRIBED", "state": "EVIDENCE_REQUIRED",
                           "disputed_payment": {"payment_id": payment}, "created_at": iso(now)}
    status = "FAILED" if kind == "payment_failed" else "COMPLETED"
    return "payment", {"id": payment, "amount_money": amount_money, "total_money": amount_money,
                       "status": status, "source_type": "CARD", "location_id": "LWEBHOOKCTL",
                       "created_at": iso(now), "updated_at": iso(now)}


# --- Checkout.com: https://www.checkout.com/docs/developer-resources/webhooks
CHECKOUT_TYPES = {"payment_succeeded": "payment_captured", "payment_failed": "payment_declined",
                  "refund": "payment_refunded", "dispute": "dispute_received"}


def checkout_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    payment, event_id, event_type = f"pay_{token(13)}", f"evt_{token(13)}", CHECKOUT_TYPES[kind]
    data = {"id": payment, "action_id": f"act_{token(13)}", "amount": money.amount,
            "currency": money.currency, "processed_on": iso(now), "reference": f"order-{token(4)}"}
    if kind == "payment_failed":
        data |= {"response_code": "20051", "response_summary": "Insufficient Funds"}
    elif kind == "dispute":
        data = {"id": f"dsp_{token(13)}", "amount": money.amount, "currency": money.currency,
                "payment_id": payment, "reason_code": "10.4", "category": "fraudulent",
                "evidence_required_by": iso(now + 7 * 86400)}
    else:
        data |= {"response_code": "10000", "response_summary": "Approved"}
    payload = {"id": event_id, "type": event_type, "version": "1.0.33", "created_on": iso(now), "data": data,
               "_links": {"self": {"href": f"https://api.sandbox.checkout.com/workflows/events/{event_id}"}}}
    return Sample("checkout", kind, event_id, event_type, encode(payload), payment)


# --- Razorpay: https://razorpay.com/docs/webhooks/payloads/payments/ (the id travels in a header).
RAZORPAY_TYPES = {"payment_succeeded": "payment.captured", "payment_failed": "payment.failed",
                  "refund": "refund.processed", "dispute": "payment.dispute.created"}


def razorpay_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    payment, event_id, event_type = f"pay_{token(7)}", token(8), RAZORPAY_TYPES[kind]
    entity = {"id": payment, "entity": "payment", "amount": money.amount, "currency": money.currency,
              "status": {"payment_failed": "failed", "refund": "refunded"}.get(kind, "captured"),
              "order_id": f"order_{token(7)}", "method": "card", "captured": kind != "payment_failed",
              "created_at": now}
    payload: dict[str, Any] = {"payment": {"entity": entity}}
    if kind == "refund":
        payload["refund"] = {"entity": {"id": f"rfnd_{token(7)}", "entity": "refund", "amount": money.amount,
                                        "currency": money.currency, "payment_id": payment,
                                        "status": "processed", "created_at": now}}
    elif kind == "dispute":
        payload["dispute"] = {"entity": {"id": f"disp_{token(7)}", "entity": "dispute",
                                         "amount": money.amount, "currency": money.currency,
                                         "payment_id": payment, "reason_code": "chargeback",
                                         "phase": "chargeback", "status": "open", "created_at": now}}
    body = {"entity": "event", "account_id": f"acc_{token(7)}", "event": event_type,
            "contains": list(payload), "payload": payload, "created_at": now}
    return Sample("razorpay", kind, event_id, event_type, encode(body), payment, {}, {"eventId": event_id})


# --- Paddle Billing: https://developer.paddle.com/webhooks/overview
# (refunds and chargebacks are adjustments).
PADDLE_TYPES = {"payment_succeeded": "transaction.completed", "payment_failed": "transaction.payment_failed",
                "refund": "adjustment.created", "dispute": "adjustment.created"}


def paddle_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    txn, event_id, event_type = f"txn_{_ulid(token)}", f"evt_{_ulid(token)}", PADDLE_TYPES[kind]
    if kind in ("refund", "dispute"):
        data = {"id": f"adj_{_ulid(token)}", "action": "refund" if kind == "refund" else "chargeback",
                "transaction_id": txn, "currency_code": money.currency, "status": "approved",
                "reason": "requested_by_customer" if kind == "refund" else "chargeback",
                "totals": {"total": str(money.amount), "currency_code": money.currency},
                "created_at": iso(now)}
    else:
        data = {"id": txn, "status": "past_due" if kind == "payment_failed" else "completed",
                "currency_code": money.currency, "origin": "web", "billed_at": iso(now),
                "details": {"totals": {"subtotal": str(money.amount), "discount": "0", "tax": "0",
                                       "total": str(money.amount), "credit": "0", "balance": "0",
                                       "grand_total": str(money.amount), "currency_code": money.currency}},
                "created_at": iso(now)}
    payload = {"event_id": event_id, "event_type": event_type, "occurred_at": iso(now),
               "notification_id": f"ntf_{_ulid(token)}", "data": data}
    return Sample("paddle", kind, event_id, event_type, encode(payload), txn)


# --- Standard Webhooks: {type, timestamp, data}; the id is the webhook-id header (https://www.standardwebhooks.com).
STANDARD_TYPES = {"payment_succeeded": "payment.succeeded", "payment_failed": "payment.failed",
                  "refund": "refund.created", "dispute": "dispute.created"}


def standard_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    payment, event_id, event_type = f"pay_{token(12)}", f"msg_{token(12)}", STANDARD_TYPES[kind]
    payload = {"type": event_type, "timestamp": iso(now),
               "data": {"id": payment, "amount": money.amount, "currency": money.currency,
                        "status": kind.removeprefix("payment_")}}
    return Sample("standard", kind, event_id, event_type, encode(payload), payment, {}, {"msgId": event_id})


# --- GitHub: Sponsors and Marketplace are GitHub's payment events (https://docs.github.com/en/webhooks).
GITHUB_EVENTS = {"payment_succeeded": ("marketplace_purchase", "purchased"),
                 "payment_failed": ("marketplace_purchase", "pending_change_cancelled"),
                 "refund": ("marketplace_purchase", "cancelled"),
                 "dispute": ("sponsorship", "pending_cancellation")}


def github_event(kind: str, now: int, token: Token, money: Money) -> Sample:
    event, action = GITHUB_EVENTS[kind]
    delivery, account = _uuid(token), int(token(3), 16)
    plan = {"id": 7, "name": "Pro", "monthly_price_in_cents": money.amount, "price_model": "FLAT_RATE"}
    subject = ({"marketplace_purchase": {"account": {"id": account, "login": f"org-{token(3)}",
                                                     "type": "Organization"},
                                         "billing_cycle": "monthly", "unit_count": 1, "plan": plan}}
               if event == "marketplace_purchase" else
               {"sponsorship": {"node_id": f"S_{token(8)}", "created_at": iso(now), "privacy_level": "public",
                                "tier": {"monthly_price_in_cents": money.amount, "name": "Sponsor"}}})
    payload = {"action": action, "effective_date": iso(now), **subject,
               "sender": {"id": account, "login": f"user-{token(3)}", "type": "User"}}
    reference = next(iter(subject.values())).get("node_id") or str(account)
    return Sample("github", kind, delivery, f"{event}.{action}", encode(payload), reference,
                  {"X-GitHub-Hook-ID": "1", "User-Agent": "GitHub-Hookshot/webhookctl"},
                  {"event": event, "delivery": delivery})


def _uuid(token: Token) -> str:
    raw = token(16)
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:32]}"


def _ulid(token: Token) -> str:
    """Paddle ids are 26 lowercase base32 characters."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    number = int(token(17), 16)
    return "01" + "".join(alphabet[(number >> (5 * i)) & 31] for i in range(24))


BUILDERS: dict[str, Callable[[str, int, Token, Money], Sample]] = {
    "stripe": stripe_event, "adyen": adyen_event, "square": square_event, "checkout": checkout_event,
    "razorpay": razorpay_event, "paddle": paddle_event, "standard": standard_event, "github": github_event,
}


def file_event(provider: str, body: bytes, *, now: int, token: Token = secrets.token_hex) -> Sample:
    """A body from a file, sent as is; ids that the provider carries in headers are fresh."""
    if provider not in BUILDERS:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    event_id, event_type = _ids_in(body)
    fresh = {"standard": lambda: {"msgId": f"msg_{token(12)}"},
             "razorpay": lambda: {"eventId": token(8)},
             "github": lambda: {"delivery": _uuid(token), "event": "ping"}}
    options = fresh.get(provider, dict)()
    event_id = options.get("msgId") or options.get("eventId") or options.get("delivery") or event_id
    return Sample(provider, "file", event_id, event_type, body, "", {}, options)


def _ids_in(body: bytes) -> tuple[str, str]:
    """Best-effort (event id, type) of a file's event, for display only."""
    try:
        payload = json.loads(body)
    except ValueError:
        return "-", "-"
    if not isinstance(payload, dict):
        return "-", "-"
    event_id = payload.get("id") or payload.get("event_id") or "-"
    event_type = payload.get("type") or payload.get("event_type") or payload.get("event") or "-"
    return str(event_id), str(event_type)
