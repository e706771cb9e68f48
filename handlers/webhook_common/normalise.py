"""Provider events → one canonical record: category, amount (minor units), currency, payment id, occurredAt.

Each function takes the parsed payload and the stored event type. It returns None for event types it does
not map (the processor marks those IGNORED) and raises `MalformedEvent` when a mapped event lacks what its
provider always sends (the processor fails that record; after 3 receives it reaches the DLQ). Pure stdlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PAYMENT_SUCCEEDED = "payment_succeeded"
PAYMENT_FAILED = "payment_failed"
REFUND = "refund"
DISPUTE = "dispute"
OTHER = "other"
CATEGORIES = (PAYMENT_SUCCEEDED, PAYMENT_FAILED, REFUND, DISPUTE, OTHER)


class MalformedEvent(ValueError):
    """A mapped event type lacks a field its provider always sends."""


@dataclass(frozen=True)
class Canonical:
    """The provider-neutral view of a payment event; None where the event carries no such value."""

    category: str
    amount: int | None = None
    currency: str | None = None
    payment_id: str | None = None
    occurred_at: str | None = None


def _get(payload: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            payload = payload[key] if isinstance(payload, list) and len(payload) > key else None
        else:
            payload = payload.get(key) if isinstance(payload, dict) else None
    return payload


def _amount(value: Any) -> int:
    """Minor units as int; Paddle sends digit strings. Anything else is malformed."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise MalformedEvent("amount is not a non-negative integer in minor units")


def _currency(value: Any) -> str:
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha():
        return value.upper()
    raise MalformedEvent("currency is not a 3-letter ISO 4217 code")


def _text(value: Any, what: str) -> str:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
        return str(value)
    raise MalformedEvent(f"{what} is missing")


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def _moment(value: Any) -> datetime | None:
    """Unix seconds or an RFC 3339 string (any offset, up to nanoseconds) as an aware datetime."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value, count=1))
            return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def iso_time(value: Any) -> str | None:
    """Unix seconds or an RFC 3339 string -> 'YYYY-MM-DDTHH:MM:SSZ'."""
    moment = _moment(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def epoch_seconds(value: Any) -> int | None:
    """Unix seconds or an RFC 3339 string -> whole unix seconds."""
    moment = _moment(value)
    return int(moment.timestamp()) if moment else None


def _money(category: str, amount: Any, currency: Any, payment_id: Any, occurred: Any) -> Canonical:
    return Canonical(
        category, _amount(amount), _currency(currency), _text(payment_id, "payment id"), iso_time(occurred)
    )


# --- Stripe (event.data.object is a PaymentIntent, Charge, Refund, Dispute or Checkout Session) -----------

_STRIPE = {
    "payment_intent.succeeded": (PAYMENT_SUCCEEDED, "amount_received", "id"),
    "payment_intent.payment_failed": (PAYMENT_FAILED, "amount", "id"),
    "payment_intent.canceled": (OTHER, "amount", "id"),
    "charge.succeeded": (PAYMENT_SUCCEEDED, "amount", "payment_intent|id"),
    "charge.failed": (PAYMENT_FAILED, "amount", "payment_intent|id"),
    "charge.refunded": (REFUND, "amount_refunded", "payment_intent|id"),
    "refund.created": (REFUND, "amount", "payment_intent|charge"),
    "charge.refund.updated": (REFUND, "amount", "payment_intent|charge"),
    "charge.dispute.created": (DISPUTE, "amount", "payment_intent|charge"),
    "charge.dispute.closed": (DISPUTE, "amount", "payment_intent|charge"),
    "checkout.session.completed": (PAYMENT_SUCCEEDED, "amount_total", "payment_intent|id"),
}


def _first(obj: Any, keys: str) -> Any:
    return next((obj[k] for k in keys.split("|") if isinstance(obj, dict) and obj.get(k)), None)


def stripe(payload: Any, event_type: str) -> Canonical | None:
    if event_type not in _STRIPE:
        return None
    category, amount_key, id_keys = _STRIPE[event_type]
    obj = _get(payload, "data", "object")
    if not isinstance(obj, dict):
        raise MalformedEvent("data.object is missing")
    return _money(category, obj.get(amount_key), obj.get("currency"), _first(obj, id_keys), _get(payload, "created"))


# --- Adyen (standard notification; the first NotificationRequestItem) -------------------------------------

_ADYEN_DISPUTES = {
    "CHARGEBACK",
    "NOTIFICATION_OF_CHARGEBACK",
    "SECOND_CHARGEBACK",
    "PREARBITRATION_WON",
    "PREARBITRATION_LOST",
    "REQUEST_FOR_INFORMATION",
    "CHARGEBACK_REVERSED",
}


def _adyen_category(code: str, success: bool) -> str | None:
    if code == "AUTHORISATION":
        return PAYMENT_SUCCEEDED if success else PAYMENT_FAILED
    if code in ("CAPTURE_FAILED", "REFUSED"):
        return PAYMENT_FAILED
    if code == "REFUND":
        return REFUND if success else OTHER
    if code in _ADYEN_DISPUTES:
        return DISPUTE
    if code in ("CAPTURE", "CANCELLATION", "REFUND_FAILED", "CANCEL_OR_REFUND"):
        return OTHER
    return None


def adyen(payload: Any, event_type: str) -> Canonical | None:
    item = _get(payload, "notificationItems", 0, "NotificationRequestItem")
    if not isinstance(item, dict):
        raise MalformedEvent("notificationItems[0].NotificationRequestItem is missing")
    category = _adyen_category(event_type, str(item.get("success")).lower() == "true")
    if category is None:
        return None
    # Modifications (refunds, captures, chargebacks) point at the payment through originalReference.
    payment = item.get("originalReference") or item.get("pspReference")
    return _money(
        category, _get(item, "amount", "value"), _get(item, "amount", "currency"), payment, item.get("eventDate")
    )


# --- Square (data.object.payment | refund | dispute) ------------------------------------------------------

_SQUARE_PAYMENT_STATUS = {"COMPLETED": PAYMENT_SUCCEEDED, "FAILED": PAYMENT_FAILED, "CANCELED": PAYMENT_FAILED}


def square(payload: Any, event_type: str) -> Canonical | None:
    obj = _get(payload, "data", "object")
    occurred = _get(payload, "created_at")
    if event_type in ("payment.created", "payment.updated"):
        payment = _get(obj, "payment")
        category = _SQUARE_PAYMENT_STATUS.get(_get(payment, "status"), OTHER)
        money = _get(payment, "total_money") or _get(payment, "amount_money")
        return _money(category, _get(money, "amount"), _get(money, "currency"), _get(payment, "id"), occurred)
    if event_type in ("refund.created", "refund.updated"):
        refund = _get(obj, "refund")
        money = _get(refund, "amount_money")
        return _money(REFUND, _get(money, "amount"), _get(money, "currency"), _get(refund, "payment_id"), occurred)
    if event_type.startswith("dispute."):
        dispute = _get(obj, "dispute")
        money = _get(dispute, "amount_money")
        payment = _get(dispute, "disputed_payment", "payment_id") or _get(dispute, "id")
        return _money(DISPUTE, _get(money, "amount"), _get(money, "currency"), payment, occurred)
    return None


# --- Checkout.com (data is the payment) -------------------------------------------------------------------

_CHECKOUT = {
    "payment_captured": PAYMENT_SUCCEEDED,
    "payment_approved": OTHER,
    "payment_declined": PAYMENT_FAILED,
    "payment_capture_declined": PAYMENT_FAILED,
    "payment_refunded": REFUND,
    "payment_voided": OTHER,
}


def checkout(payload: Any, event_type: str) -> Canonical | None:
    category = DISPUTE if event_type.startswith("dispute_") else _CHECKOUT.get(event_type)
    if category is None:
        return None
    data = _get(payload, "data")
    payment = _get(data, "payment_id") if category == DISPUTE else _get(data, "id")
    return _money(category, _get(data, "amount"), _get(data, "currency"), payment, _get(payload, "created_on"))


# --- Razorpay (payload.payment.entity | payload.refund.entity | payload.dispute.entity) -------------------

_RAZORPAY = {
    "payment.captured": (PAYMENT_SUCCEEDED, "payment", "id"),
    "order.paid": (PAYMENT_SUCCEEDED, "payment", "id"),
    "payment.failed": (PAYMENT_FAILED, "payment", "id"),
    "payment.authorized": (OTHER, "payment", "id"),
    "refund.created": (REFUND, "refund", "payment_id"),
    "refund.processed": (REFUND, "refund", "payment_id"),
}


def razorpay(payload: Any, event_type: str) -> Canonical | None:
    if event_type.startswith("payment.dispute."):
        entity = _get(payload, "payload", "dispute", "entity")
        payment = _get(payload, "payload", "payment", "entity", "id") or _get(entity, "payment_id")
        return _money(DISPUTE, _get(entity, "amount"), _get(entity, "currency"), payment, _get(payload, "created_at"))
    if event_type not in _RAZORPAY:
        return None
    category, entity_name, id_key = _RAZORPAY[event_type]
    entity = _get(payload, "payload", entity_name, "entity")
    return _money(
        category, _get(entity, "amount"), _get(entity, "currency"), _get(entity, id_key), _get(payload, "created_at")
    )


# --- Paddle Billing (data is a transaction or an adjustment) ----------------------------------------------

_PADDLE_ADJUSTMENTS = {
    "refund": REFUND,
    "chargeback": DISPUTE,
    "chargeback_warning": DISPUTE,
    "chargeback_reverse": DISPUTE,
    "credit": OTHER,
}


def paddle(payload: Any, event_type: str) -> Canonical | None:
    data = _get(payload, "data")
    occurred = _get(payload, "occurred_at")
    if event_type in ("transaction.completed", "transaction.paid", "transaction.payment_failed"):
        category = PAYMENT_FAILED if event_type.endswith("failed") else PAYMENT_SUCCEEDED
        return _money(
            category,
            _get(data, "details", "totals", "grand_total"),
            _get(data, "currency_code"),
            _get(data, "id"),
            occurred,
        )
    if event_type in ("adjustment.created", "adjustment.updated"):
        category = _PADDLE_ADJUSTMENTS.get(_get(data, "action"), OTHER)
        return _money(
            category, _get(data, "totals", "total"), _get(data, "currency_code"), _get(data, "transaction_id"), occurred
        )
    return None


# --- GitHub: Marketplace purchases and Sponsors are its only payments, always in USD cents ---------------


def github(payload: Any, event_type: str) -> Canonical | None:
    """`marketplace_purchase.purchased` and `sponsorship.created` are payments; everything else is ignored."""
    if event_type == "marketplace_purchase.purchased":
        purchase = _get(payload, "marketplace_purchase")
        plan = _get(purchase, "plan")
        units = _get(purchase, "unit_count") if _get(plan, "price_model") == "PER_UNIT" else 1
        amount = _amount(_get(plan, "monthly_price_in_cents")) * _amount(units or 1)
        return _money(PAYMENT_SUCCEEDED, amount, "USD", str(_get(purchase, "account", "id")),
                      _get(payload, "effective_date"))
    if event_type == "sponsorship.created":
        sponsorship = _get(payload, "sponsorship")
        return _money(PAYMENT_SUCCEEDED, _get(sponsorship, "tier", "monthly_price_in_cents"), "USD",
                      _get(sponsorship, "node_id"), _get(sponsorship, "created_at"))
    return None


# --- Standard Webhooks: no fixed schema, so map by words in the type --------------------------

_GENERIC_WORDS = (
    (REFUND, ("refund",)),
    (DISPUTE, ("dispute", "chargeback")),
    (PAYMENT_FAILED, ("fail", "declin")),
    (PAYMENT_SUCCEEDED, ("succeed", "success", "paid", "captur", "complet")),
)


def _generic_category(event_type: str) -> str | None:
    lowered = event_type.lower()
    return next((c for c, words in _GENERIC_WORDS if any(w in lowered for w in words)), None)


def _optional(convert, value: Any) -> Any:
    return None if value is None else convert(value)


def generic(payload: Any, event_type: str) -> Canonical | None:
    """Standard Webhooks payload {type, timestamp, data}; amount/currency/id from data when present."""
    category = _generic_category(event_type)
    if category is None:
        return None
    data = _get(payload, "data") if isinstance(_get(payload, "data"), dict) else payload
    amount, currency = _get(data, "amount"), _get(data, "currency")
    if isinstance(amount, dict):  # {"amount": {"value": 1000, "currency": "EUR"}}
        amount, currency = amount.get("value"), amount.get("currency")
    payment = _get(data, "payment_id") or _get(data, "id")
    return Canonical(
        category,
        _optional(_amount, amount),
        _optional(_currency, currency),
        _optional(lambda v: _text(v, "payment id"), payment),
        iso_time(_get(payload, "timestamp") or _get(payload, "created_at")),
    )


# The event types each provider's normaliser above maps: what `webhookctl connect` subscribes an endpoint to.
SUBSCRIBED = {
    "stripe": tuple(sorted(_STRIPE)),
    "square": ("dispute.created", "dispute.state.updated", "payment.created", "payment.updated", "refund.created",
               "refund.updated"),
    "paddle": ("adjustment.created", "adjustment.updated", "transaction.completed", "transaction.paid",
               "transaction.payment_failed"),
    # GitHub subscribes by event name; the actions its normaliser maps are .purchased and .created
    "github": ("marketplace_purchase", "sponsorship"),
}
