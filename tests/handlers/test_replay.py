"""An attacker holding one captured genuine delivery: whatever they re-send, and however they re-batch or
re-label it, every event is stored and processed once, and no genuine event is pre-empted."""

from __future__ import annotations

import copy
import json
import time

import processor
import pytest
import receiver

from .conftest import SECRETS, TABLE, signed_event
from .samples import ADYEN_AUTHORISATION_ITEM, RAZORPAY_PAYMENT, SAMPLES, _razorpay
from .test_receiver import SAMPLE_BY_PROVIDER, answer, sample_event


def post(event: dict) -> tuple[int, dict]:
    return answer(receiver.handler(event, None))


def process(aws) -> None:
    assert processor.handler({"Records": aws.drain()}, None) == {"batchItemFailures": []}


def processed(aws) -> list[str]:
    return sorted(i["webhookId"]["S"] for i in aws.items() if i["status"]["S"] in ("PROCESSED", "IGNORED"))


def captured(provider: str) -> dict:
    """One genuine delivery, exactly as it went over the wire."""
    return sample_event(provider)


def with_headers(event: dict, **changed: str) -> dict:
    return {**event, "headers": {**event["headers"], **changed}}


# --- the same captured delivery, again and re-labelled --------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(SAMPLE_BY_PROVIDER))
def test_a_captured_delivery_replayed_as_is_is_processed_once(aws, provider):
    event = captured(provider)
    first, again = post(event), post(copy.deepcopy(event))
    process(aws)
    third = post(copy.deepcopy(event))
    process(aws)
    assert (first[0], first[1]["duplicate"], again[1]["duplicate"], third[1]["duplicate"]) == (200, False, True, True)
    assert len(processed(aws)) == 1 and len(aws.items()) == 1


@pytest.mark.parametrize(("provider", "header"), [("razorpay", "X-Razorpay-Event-Id"),
                                                  ("github", "X-GitHub-Delivery")])
def test_fresh_unsigned_ids_do_not_make_a_captured_body_new(aws, provider, header):
    # GIVEN a captured delivery WHEN it is re-sent under fresh ids in the header the HMAC does not cover
    event = captured(provider)
    answers = [post(with_headers(event, **{header: f"forged-{n}"}))[1] for n in range(5)]
    process(aws)
    # THEN it is one event: every re-send is a duplicate, and it is processed once
    assert [a["duplicate"] for a in answers] == [False, True, True, True, True]
    assert len({a["webhookId"] for a in answers}) == 1 and len(processed(aws)) == 1


def test_a_replay_under_a_later_events_id_cannot_pre_empt_it(aws):
    # GIVEN a captured Razorpay delivery A, re-sent by the attacker under the id the later genuine B will have
    a = signed_event("razorpay", _razorpay("payment.captured", {"payment": RAZORPAY_PAYMENT}),
                     options={"eventId": "evt_A"})
    later = {"payment": {"entity": {**RAZORPAY_PAYMENT["entity"], "id": "pay_B"}}}
    b = signed_event("razorpay", _razorpay("payment.captured", later), options={"eventId": "evt_B"})
    assert post(a)[1]["duplicate"] is False
    assert post(with_headers(a, **{"X-Razorpay-Event-Id": "evt_B"}))[1]["duplicate"] is True
    # WHEN the genuine B arrives THEN it is a new event, stored and processed
    assert post(b)[1]["duplicate"] is False
    process(aws)
    assert len(processed(aws)) == 2
    payments = sorted(i["paymentId"]["S"] for i in aws.items())
    assert payments == ["pay_B", "pay_DESlfW9H8K9uqM"]


def test_the_same_unsigned_id_with_another_signed_body_is_another_event(aws):
    # Razorpay's header id is not signed: two bodies the provider signed are two events, whatever it says
    a = signed_event("razorpay", _razorpay("payment.captured", {"payment": RAZORPAY_PAYMENT}),
                     options={"eventId": "same"})
    other = _razorpay("payment.failed", {"payment": RAZORPAY_PAYMENT})
    b = signed_event("razorpay", other, options={"eventId": "same"})
    assert (post(a)[1]["duplicate"], post(b)[1]["duplicate"]) == (False, False)
    assert sorted(i["providerEventId"]["S"] for i in aws.items()) == ["same", "same"]


def test_the_same_signed_id_with_another_body_keeps_the_first_and_says_so(aws, capsys):
    # GIVEN a Stripe event, then a different body carrying the same signed event id
    first = SAMPLE_BY_PROVIDER["stripe"].payload
    changed = {**first, "data": {"object": {**first["data"]["object"], "amount_received": 1}}}
    post(signed_event("stripe", first))
    capsys.readouterr()
    status, body = post(signed_event("stripe", changed))
    # THEN it is answered as a duplicate, the first stays, and the conflict is logged
    assert (status, body["duplicate"]) == (200, True)
    [item] = aws.items()
    assert json.loads(item["payload"]["S"])["data"]["object"]["amount_received"] == 2000
    assert "same event id, different signed body" in capsys.readouterr().out


# --- Adyen: one event per NotificationRequestItem -------------------------------------------------------------

REFUND_ITEM = {**ADYEN_AUTHORISATION_ITEM, "eventCode": "REFUND", "pspReference": "8815658961765250",
               "originalReference": "7914073381342284", "amount": {"currency": "EUR", "value": 500}}


def adyen_batch(*items: dict) -> dict:
    return signed_event("adyen", {"live": "false", "notificationItems": [
        {"NotificationRequestItem": {k: v for k, v in i.items() if k != "additionalData"}} for i in items]})


def test_a_two_item_batch_is_two_events_with_their_own_amounts(aws):
    status, body = post(adyen_batch(ADYEN_AUTHORISATION_ITEM, REFUND_ITEM))
    process(aws)
    assert (status, len(body["webhookId"].split(","))) == (200, 2)
    amounts = sorted((i["category"]["S"], int(i["amount"]["N"])) for i in aws.items())
    assert amounts == [("payment_succeeded", 1130), ("refund", 500)]


def test_the_answer_is_accepted_only_once_every_item_is_stored(aws):
    response = receiver.handler(adyen_batch(ADYEN_AUTHORISATION_ITEM, REFUND_ITEM), None)
    assert (response["statusCode"], response["body"]) == (200, "[accepted]")
    assert sorted(i["eventType"]["S"] for i in aws.items()) == ["AUTHORISATION", "REFUND"]


A, R = ADYEN_AUTHORISATION_ITEM, REFUND_ITEM


@pytest.mark.parametrize(("batches", "events"), [
    ([[A], [A, A]], ["AUTHORISATION"]),
    ([[A, R], [R, A]], ["AUTHORISATION", "REFUND"]),
    ([[A, R], [A], [R]], ["AUTHORISATION", "REFUND"]),
    ([[A], [R], [R, A, A]], ["AUTHORISATION", "REFUND"]),
], ids=["[A] then [A,A]", "reordered", "split", "merged"])
def test_a_re_batched_capture_is_the_same_events(aws, batches, events):
    for batch in batches:
        assert post(adyen_batch(*batch))[0] == 200
        process(aws)
    assert sorted(i["eventType"]["S"] for i in aws.items()) == events
    assert len(processed(aws)) == len(events)


def test_one_forged_item_refuses_the_whole_batch(aws):
    event = adyen_batch(ADYEN_AUTHORISATION_ITEM, REFUND_ITEM)
    body = json.loads(event["body"])
    body["notificationItems"][1]["NotificationRequestItem"]["amount"]["value"] = 50000
    status, _ = post({**event, "body": json.dumps(body)})
    assert status == 401 and aws.all_items() == []


# --- replays after the idempotency record expired -------------------------------------------------------------


@pytest.mark.parametrize(("provider", "field"), [("square", "created_at"), ("checkout", "created_on"),
                                                 ("razorpay", "created_at")])
def test_an_event_whose_signed_time_is_older_than_the_window_is_refused(aws, monkeypatch, provider, field):
    monkeypatch.setenv("EVENT_TTL_DAYS", "30")
    sample = copy.deepcopy(SAMPLE_BY_PROVIDER[provider].payload)
    now = time.time()
    old = now - 29 * 86400 - 60  # within 30 days, but not within 30 days minus the one-day margin
    sample[field] = int(old) if provider == "razorpay" else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(old))
    status, body = post(signed_event(provider, sample))
    assert (status, body) == (400, {"error": "event is older than the 30-day replay window"})
    recent = now - 28 * 86400
    sample[field] = int(recent) if provider == "razorpay" else time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                              time.gmtime(recent))
    assert post(signed_event(provider, sample))[0] == 200


@pytest.mark.parametrize("provider", ["adyen", "github"])
def test_a_provider_that_signs_no_time_gets_a_tombstone_that_refuses_a_late_replay(aws, monkeypatch, provider,
                                                                                    capsys):
    # GIVEN a processed event, whose item has since expired (DynamoDB's TTL removed it)
    monkeypatch.setenv("EVENT_TTL_DAYS", "90")
    event = captured(provider)
    post(event)
    process(aws)
    [tombstone] = aws.tombstones()
    assert set(tombstone) == {"webhookId", "timestamp", "bodyDigest", "expiresAt"}  # no payload
    assert int(tombstone["expiresAt"]["N"]) > int(aws.items()[0]["expiresAt"]["N"])
    aws.dynamodb.delete_item(TableName=TABLE, Key={"webhookId": aws.items()[0]["webhookId"],
                                                   "timestamp": {"S": "event"}})
    # WHEN the captured delivery is replayed
    status, body = post(copy.deepcopy(event))
    # THEN it is answered like a duplicate, and nothing is stored or enqueued again
    assert (status, body["duplicate"]) == (200, True)
    assert aws.items() == [] and aws.messages() == []
    assert "replay of an event that expired after processing: refused" in capsys.readouterr().out


# --- secrets that must never verify --------------------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(SAMPLE_BY_PROVIDER))
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_secret_configures_nothing_and_verifies_nothing(aws, provider, blank):
    aws.set_secrets({provider: [blank]})
    # A request "signed" with the blank key: the same answer as for a provider that is not there at all
    # (Adyen's key is hex: "00" stands in for a key nobody configured)
    forged = signed_event(provider, SAMPLE_BY_PROVIDER[provider].payload, secret="00" if provider == "adyen" else " ")
    status, body = post(forged)
    assert (status, body) == (404, {"error": "unknown provider"})
    assert aws.all_items() == []


@pytest.mark.parametrize("provider", ["stripe", "razorpay", "github", "checkout", "paddle"])
def test_a_blank_secret_beside_a_real_one_is_never_tried(aws, provider):
    aws.set_secrets({provider: [" ", SECRETS[provider]]})
    forged = signed_event(provider, SAMPLE_BY_PROVIDER[provider].payload, secret=" ")
    assert post(forged)[0] == 401
    assert post(sample_event(provider))[0] == 200


def test_an_unknown_and_an_unconfigured_provider_get_the_same_answer(aws):
    aws.set_secrets({"stripe": [SECRETS["stripe"]]})
    unconfigured = post(sample_event("razorpay"))
    unknown = post({**sample_event("stripe"), "pathParameters": {"provider": "paypal"}})
    assert unconfigured == unknown == (404, {"error": "unknown provider"})


def test_every_sample_provider_is_covered():
    assert {s.provider for s in SAMPLES} == set(SAMPLE_BY_PROVIDER) == set(receiver.PROVIDERS)
