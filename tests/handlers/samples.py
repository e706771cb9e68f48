"""Sample events in each provider's documented shape (trimmed to the fields that matter), with the canonical
record the processor must derive from each. Sources: the providers' webhook/event reference pages and their
SDKs' test fixtures (Adyen's from adyen-python-api-library test/UtilTest.py, Square's from
square-python-sdk tests/utilities/test_webhooks_helper.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhook_common.normalise import Canonical


@dataclass(frozen=True)
class Sample:
    name: str
    provider: str
    payload: dict[str, Any]
    event_type: str
    expected: Canonical | None  # None: IGNORED
    headers: dict[str, str] | None = None  # event id / type headers some providers send


def _stripe(event_id: str, event_type: str, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2022-11-15",
        "created": 1680064028,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


STRIPE_SUCCEEDED = _stripe(
    "evt_3MtwBwLkdIwHu7ix0QGdLBPF",
    "payment_intent.succeeded",
    {
        "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "object": "payment_intent",
        "amount": 2000,
        "amount_received": 2000,
        "currency": "usd",
        "status": "succeeded",
        "payment_method_types": ["card"],
    },
)


def _adyen(item: dict) -> dict:
    return {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}


# adyen-python-api-library test/UtilTest.py: this item and key give hmacSignature coqCmt/...=
ADYEN_AUTHORISATION_ITEM = {
    "pspReference": "7914073381342284",
    "merchantReference": "TestPayment-1407325143704",
    "merchantAccountCode": "TestMerchant",
    "amount": {"currency": "EUR", "value": 1130},
    "eventCode": "AUTHORISATION",
    "success": "true",
    "eventDate": "2019-05-06T17:15:34.121+02:00",
    "operations": ["CANCEL", "CAPTURE", "REFUND"],
    "paymentMethod": "visa",
    "additionalData": {"hmacSignature": "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="},
}


def _square(event_type: str, obj: dict) -> dict:
    return {
        "merchant_id": "6SSW7HV8K2ST5",
        "type": event_type,
        "event_id": "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc",
        "created_at": "2020-02-06T21:27:34.308Z",
        "data": {"type": event_type.split(".")[0], "id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY", "object": obj},
    }


def _checkout(event_type: str, data: dict) -> dict:
    return {
        "id": "evt_dli6ty4qo5vuxle5wklf5gwbwy",
        "type": event_type,
        "version": "1.0.29",
        "created_on": "2023-01-10T15:38:26Z",
        "data": data,
        "_links": {"self": {"href": "https://api.checkout.com/workflows/events/evt_dli6ty4qo5vuxle5wklf5gwbwy"}},
    }


def _razorpay(event: str, payload: dict) -> dict:
    return {
        "entity": "event",
        "account_id": "acc_BFQ7uQEaa7j2z7",
        "event": event,
        "contains": list(payload),
        "payload": payload,
        "created_at": 1567674606,
    }


RAZORPAY_PAYMENT = {
    "entity": {
        "id": "pay_DESlfW9H8K9uqM",
        "entity": "payment",
        "amount": 100,
        "currency": "INR",
        "status": "captured",
        "order_id": "order_DESlLckIVRkHWj",
        "method": "netbanking",
    }
}


def _paddle(event_type: str, data: dict) -> dict:
    return {
        "event_id": "evt_01hv8x2acma2gz7he8kg8k0vkw",
        "event_type": event_type,
        "occurred_at": "2024-04-12T10:18:49.621022Z",
        "notification_id": "ntf_01hv8x2af8b2s7hxe3aacg3n8c",
        "data": data,
    }


SAMPLES = [
    Sample(
        "stripe payment_intent.succeeded",
        "stripe",
        STRIPE_SUCCEEDED,
        "payment_intent.succeeded",
        Canonical("payment_succeeded", 2000, "USD", "pi_3MtwBwLkdIwHu7ix28a3tqPa", "2023-03-29T04:27:08Z"),
    ),
    Sample(
        "stripe payment_intent.payment_failed",
        "stripe",
        _stripe(
            "evt_1Pf",
            "payment_intent.payment_failed",
            {
                "id": "pi_failed",
                "object": "payment_intent",
                "amount": 1099,
                "amount_received": 0,
                "currency": "eur",
                "last_payment_error": {"code": "card_declined"},
            },
        ),
        "payment_intent.payment_failed",
        Canonical("payment_failed", 1099, "EUR", "pi_failed", "2023-03-29T04:27:08Z"),
    ),
    Sample(
        "stripe charge.refunded",
        "stripe",
        _stripe(
            "evt_1Rf",
            "charge.refunded",
            {
                "id": "ch_3Mtw",
                "object": "charge",
                "amount": 2000,
                "amount_refunded": 500,
                "currency": "usd",
                "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
                "refunded": False,
            },
        ),
        "charge.refunded",
        Canonical("refund", 500, "USD", "pi_3MtwBwLkdIwHu7ix28a3tqPa", "2023-03-29T04:27:08Z"),
    ),
    Sample(
        "stripe charge.dispute.created",
        "stripe",
        _stripe(
            "evt_1Dp",
            "charge.dispute.created",
            {
                "id": "dp_1Mtw",
                "object": "dispute",
                "amount": 2000,
                "currency": "usd",
                "charge": "ch_3Mtw",
                "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
                "reason": "fraudulent",
                "status": "needs_response",
            },
        ),
        "charge.dispute.created",
        Canonical("dispute", 2000, "USD", "pi_3MtwBwLkdIwHu7ix28a3tqPa", "2023-03-29T04:27:08Z"),
    ),
    Sample(
        "stripe customer.created (unmapped)",
        "stripe",
        _stripe("evt_1Cu", "customer.created", {"id": "cus_1", "object": "customer"}),
        "customer.created",
        None,
    ),
    Sample(
        "adyen AUTHORISATION",
        "adyen",
        _adyen(ADYEN_AUTHORISATION_ITEM),
        "AUTHORISATION",
        Canonical("payment_succeeded", 1130, "EUR", "7914073381342284", "2019-05-06T15:15:34Z"),
    ),
    Sample(
        "adyen AUTHORISATION refused",
        "adyen",
        _adyen({**ADYEN_AUTHORISATION_ITEM, "success": "false", "reason": "Refused"}),
        "AUTHORISATION",
        Canonical("payment_failed", 1130, "EUR", "7914073381342284", "2019-05-06T15:15:34Z"),
    ),
    Sample(
        "adyen REFUND",
        "adyen",
        _adyen(
            {
                **ADYEN_AUTHORISATION_ITEM,
                "eventCode": "REFUND",
                "pspReference": "8816178914079738",
                "originalReference": "7914073381342284",
                "amount": {"currency": "EUR", "value": 500},
            }
        ),
        "REFUND",
        Canonical("refund", 500, "EUR", "7914073381342284", "2019-05-06T15:15:34Z"),
    ),
    Sample(
        "adyen CHARGEBACK",
        "adyen",
        _adyen(
            {
                **ADYEN_AUTHORISATION_ITEM,
                "eventCode": "CHARGEBACK",
                "pspReference": "9915555555555555",
                "originalReference": "7914073381342284",
            }
        ),
        "CHARGEBACK",
        Canonical("dispute", 1130, "EUR", "7914073381342284", "2019-05-06T15:15:34Z"),
    ),
    Sample(
        "adyen REPORT_AVAILABLE (unmapped)",
        "adyen",
        _adyen(
            {
                "eventCode": "REPORT_AVAILABLE",
                "pspReference": "settlement_detail_report_2024_1.csv",
                "success": "true",
                "amount": {"currency": "EUR", "value": 0},
            }
        ),
        "REPORT_AVAILABLE",
        None,
    ),
    Sample(
        "square payment.updated COMPLETED",
        "square",
        _square(
            "payment.updated",
            {
                "payment": {
                    "id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
                    "amount_money": {"amount": 100, "currency": "USD"},
                    "total_money": {"amount": 100, "currency": "USD"},
                    "status": "COMPLETED",
                    "source_type": "CARD",
                    "card_details": {"card": {"last_4": "1111", "card_brand": "VISA"}},
                }
            },
        ),
        "payment.updated",
        Canonical("payment_succeeded", 100, "USD", "hYy9pRFVxpDsO1FB05SunFWUe9JZY", "2020-02-06T21:27:34Z"),
    ),
    Sample(
        "square payment.updated FAILED",
        "square",
        _square(
            "payment.updated",
            {"payment": {"id": "pay_f", "amount_money": {"amount": 250, "currency": "CAD"}, "status": "FAILED"}},
        ),
        "payment.updated",
        Canonical("payment_failed", 250, "CAD", "pay_f", "2020-02-06T21:27:34Z"),
    ),
    Sample(
        "square refund.created",
        "square",
        _square(
            "refund.created",
            {
                "refund": {
                    "id": "KkAkhdMsgzn59SM8A89WgKwekxLZY_ptNBVqHYxt5gAdfcobBe4u1AZsXhoz06KTtuq9Ls24P",
                    "amount_money": {"amount": 100, "currency": "USD"},
                    "payment_id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
                    "status": "PENDING",
                }
            },
        ),
        "refund.created",
        Canonical("refund", 100, "USD", "hYy9pRFVxpDsO1FB05SunFWUe9JZY", "2020-02-06T21:27:34Z"),
    ),
    Sample(
        "square dispute.created",
        "square",
        _square(
            "dispute.created",
            {
                "dispute": {
                    "id": "bVTprrwk0gygTLZ96VX1oB",
                    "amount_money": {"amount": 4350, "currency": "USD"},
                    "reason": "AMOUNT_DIFFERS",
                    "state": "EVIDENCE_REQUIRED",
                    "disputed_payment": {"payment_id": "zhyh1ch64kRBrrlfVhwjCEjZWzNZY"},
                }
            },
        ),
        "dispute.created",
        Canonical("dispute", 4350, "USD", "zhyh1ch64kRBrrlfVhwjCEjZWzNZY", "2020-02-06T21:27:34Z"),
    ),
    Sample(
        "checkout payment_captured",
        "checkout",
        _checkout(
            "payment_captured",
            {
                "id": "pay_waji2a4dqmgu7okbmxetb3j7pe",
                "action_id": "act_y3oqhf46",
                "amount": 6540,
                "currency": "GBP",
                "reference": "ORD-5023-4E89",
            },
        ),
        "payment_captured",
        Canonical("payment_succeeded", 6540, "GBP", "pay_waji2a4dqmgu7okbmxetb3j7pe", "2023-01-10T15:38:26Z"),
    ),
    Sample(
        "checkout payment_declined",
        "checkout",
        _checkout(
            "payment_declined",
            {
                "id": "pay_decl",
                "amount": 1000,
                "currency": "EUR",
                "response_code": "20051",
                "response_summary": "Insufficient Funds",
            },
        ),
        "payment_declined",
        Canonical("payment_failed", 1000, "EUR", "pay_decl", "2023-01-10T15:38:26Z"),
    ),
    Sample(
        "checkout payment_refunded",
        "checkout",
        _checkout("payment_refunded", {"id": "pay_waji2a4dqmgu7okbmxetb3j7pe", "amount": 1000, "currency": "GBP"}),
        "payment_refunded",
        Canonical("refund", 1000, "GBP", "pay_waji2a4dqmgu7okbmxetb3j7pe", "2023-01-10T15:38:26Z"),
    ),
    Sample(
        "checkout dispute_received",
        "checkout",
        _checkout(
            "dispute_received",
            {
                "id": "dsp_rbhwd2qrg13uhrp2newf",
                "payment_id": "pay_88cb4e671m1da22",
                "amount": 999,
                "currency": "GBP",
                "reason_code": "10.4",
            },
        ),
        "dispute_received",
        Canonical("dispute", 999, "GBP", "pay_88cb4e671m1da22", "2023-01-10T15:38:26Z"),
    ),
    Sample(
        "razorpay payment.captured",
        "razorpay",
        _razorpay("payment.captured", {"payment": RAZORPAY_PAYMENT}),
        "payment.captured",
        Canonical("payment_succeeded", 100, "INR", "pay_DESlfW9H8K9uqM", "2019-09-05T09:10:06Z"),
        {"x-razorpay-event-id": "Fg2LjRqpwqRFDe"},
    ),
    Sample(
        "razorpay payment.failed",
        "razorpay",
        _razorpay(
            "payment.failed",
            {
                "payment": {
                    "entity": {**RAZORPAY_PAYMENT["entity"], "status": "failed", "error_code": "BAD_REQUEST_ERROR"}
                }
            },
        ),
        "payment.failed",
        Canonical("payment_failed", 100, "INR", "pay_DESlfW9H8K9uqM", "2019-09-05T09:10:06Z"),
        {"x-razorpay-event-id": "Fg2LjRqpwqRFDf"},
    ),
    Sample(
        "razorpay refund.processed",
        "razorpay",
        _razorpay(
            "refund.processed",
            {
                "refund": {
                    "entity": {
                        "id": "rfnd_FgRAHdNOM4ZVbO",
                        "entity": "refund",
                        "amount": 100,
                        "currency": "INR",
                        "payment_id": "pay_DESlfW9H8K9uqM",
                    }
                },
                "payment": RAZORPAY_PAYMENT,
            },
        ),
        "refund.processed",
        Canonical("refund", 100, "INR", "pay_DESlfW9H8K9uqM", "2019-09-05T09:10:06Z"),
        {"x-razorpay-event-id": "Fg2LjRqpwqRFDg"},
    ),
    Sample(
        "razorpay payment.dispute.created",
        "razorpay",
        _razorpay(
            "payment.dispute.created",
            {
                "payment": RAZORPAY_PAYMENT,
                "dispute": {
                    "entity": {
                        "id": "disp_Esz7KAitoYM7PJ",
                        "entity": "dispute",
                        "amount": 100,
                        "currency": "INR",
                        "phase": "chargeback",
                        "status": "open",
                    }
                },
            },
        ),
        "payment.dispute.created",
        Canonical("dispute", 100, "INR", "pay_DESlfW9H8K9uqM", "2019-09-05T09:10:06Z"),
        {"x-razorpay-event-id": "Fg2LjRqpwqRFDh"},
    ),
    Sample(
        "paddle transaction.completed",
        "paddle",
        _paddle(
            "transaction.completed",
            {
                "id": "txn_01hv8wptq8987qeep44cyrewp9",
                "status": "completed",
                "currency_code": "USD",
                "details": {"totals": {"subtotal": "59900", "tax": "5990", "total": "65890", "grand_total": "65890"}},
            },
        ),
        "transaction.completed",
        Canonical("payment_succeeded", 65890, "USD", "txn_01hv8wptq8987qeep44cyrewp9", "2024-04-12T10:18:49Z"),
    ),
    Sample(
        "paddle transaction.payment_failed",
        "paddle",
        _paddle(
            "transaction.payment_failed",
            {
                "id": "txn_failed",
                "status": "past_due",
                "currency_code": "EUR",
                "details": {"totals": {"grand_total": "1200"}},
            },
        ),
        "transaction.payment_failed",
        Canonical("payment_failed", 1200, "EUR", "txn_failed", "2024-04-12T10:18:49Z"),
    ),
    Sample(
        "paddle adjustment.created refund",
        "paddle",
        _paddle(
            "adjustment.created",
            {
                "id": "adj_01hvgf2s84dr6reszzg29zbvcm",
                "action": "refund",
                "currency_code": "USD",
                "transaction_id": "txn_01hv8wptq8987qeep44cyrewp9",
                "status": "pending_approval",
                "totals": {"subtotal": "5990", "tax": "599", "total": "6589"},
            },
        ),
        "adjustment.created",
        Canonical("refund", 6589, "USD", "txn_01hv8wptq8987qeep44cyrewp9", "2024-04-12T10:18:49Z"),
    ),
    Sample(
        "paddle customer.created (unmapped)",
        "paddle",
        _paddle("customer.created", {"id": "ctm_01", "email": "weloveyourproduct@paddle.com"}),
        "customer.created",
        None,
    ),
    Sample(
        "standard invoice.paid",
        "standard",
        {
            "type": "invoice.paid",
            "timestamp": "2022-11-03T20:26:10.344522Z",
            "data": {"id": "in_1", "amount": 1999, "currency": "usd"},
        },
        "invoice.paid",
        Canonical("payment_succeeded", 1999, "USD", "in_1", "2022-11-03T20:26:10Z"),
        {"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
    ),
    Sample(
        "standard contact.created (unmapped)",
        "standard",
        {
            "type": "contact.created",
            "timestamp": "2022-11-03T20:26:10.344522Z",
            "data": {"id": "c_1", "email": "a@b.c"},
        },
        "contact.created",
        None,
        {"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4X"},
    ),
    Sample(
        "github marketplace_purchase.purchased (docs sample)",
        "github",
        {
            "action": "purchased",
            "effective_date": "2017-10-25T00:00:00+00:00",
            "sender": {"login": "username", "id": 3877742, "type": "User"},
            "marketplace_purchase": {
                "account": {"type": "Organization", "id": 18404719, "login": "username"},
                "billing_cycle": "monthly",
                "unit_count": 1,
                "on_free_trial": False,
                "plan": {"id": 435, "name": "Basic Plan", "monthly_price_in_cents": 1000,
                         "yearly_price_in_cents": 10000, "price_model": "FLAT_RATE", "unit_name": "seat"},
            },
        },
        "marketplace_purchase.purchased",
        Canonical("payment_succeeded", 1000, "USD", "18404719", "2017-10-25T00:00:00Z"),
        {"x-github-event": "marketplace_purchase", "x-github-delivery": "9a5e2c1e-0d2b-11e8-9d7b-6b0e3e1b9c1a"},
    ),
    Sample(
        "github sponsorship.created (docs sample)",
        "github",
        {
            "action": "created",
            "sponsorship": {
                "node_id": "MDExOlNwb25zb3JzaGlwMQ==",
                "created_at": "2019-12-20T19:24:46+00:00",
                "privacy_level": "public",
                "tier": {"node_id": "MDEyOlNwb25zb3JzVGllcjE=", "monthly_price_in_cents": 500,
                         "monthly_price_in_dollars": 5, "name": "$5 a month"},
            },
            "sender": {"login": "monalisa", "id": 2, "type": "User"},
        },
        "sponsorship.created",
        Canonical("payment_succeeded", 500, "USD", "MDExOlNwb25zb3JzaGlwMQ==", "2019-12-20T19:24:46Z"),
        {"x-github-event": "sponsorship", "x-github-delivery": "9a5e2c1e-0d2b-11e8-9d7b-6b0e3e1b9c1b"},
    ),
    Sample(
        "github ping (unmapped)",
        "github",
        {"zen": "Design for failure.", "hook_id": 12345678, "hook": {"type": "Repository", "active": True}},
        "ping",
        None,
        {"x-github-event": "ping", "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
    ),
]
