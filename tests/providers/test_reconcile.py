"""`webhookctl reconcile` against the fake Stripe and GitHub APIs and the real receiver and processor: events
deleted from the store are found exactly, backfilled to PROCESSED, and a second run finds nothing missing."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest

from tests.ops.conftest import SUFFIX, drain
from tests.providers.conftest import REPO, Stage
from tests.providers.fakes import FakeGithub, FakeStripe, stripe_event
from webhookctl.handlers.webhook_common.providers import sign_request

pytestmark = pytest.mark.slow
HOUR = 3600


def reconcile(stage: Stage, provider: str, *args: str) -> Any:
    return stage.invoke("reconcile", "--suffix", SUFFIX, "--provider", provider, *args)


def stripe_delivered(stage: Stage, fake: FakeStripe, count: int) -> list[dict]:
    """COUNT events in the last few hours, known to the fake's /v1/events and delivered to the receiver."""
    connected = stage.invoke("connect", "--suffix", SUFFIX, "--provider", "stripe", "--yes", "--no-test-event")
    assert connected.exit_code == 0
    secret = stage.secrets("stripe")[0]
    events = [stripe_event(i, int(stage.now) - HOUR - 60 * i, "charge.refunded" if i % 5 == 0 else
                           "payment_intent.succeeded") for i in range(count)]
    fake.events += events
    for event in events:
        body, headers = sign_request("stripe", json.dumps(event).encode(), secret, int(stage.now))
        assert stage.deliver("stripe", body, headers)["statusCode"] == 200
    assert stage.process()["batchItemFailures"] == []
    return events


def test_stripe_finds_exactly_the_deleted_events_through_every_page(stage: Stage, fake_stripe: FakeStripe) -> None:
    fake_stripe.page_cap = 10
    events = stripe_delivered(stage, fake_stripe, 25)
    gone = [events[i]["id"] for i in (0, 3, 11, 24)]
    for event_id in gone:
        stage.delete(f"stripe#{event_id}")
    result = reconcile(stage, "stripe", "--since", "24h", "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert sorted(e["eventId"] for e in shown["missingHere"]) == sorted(gone)
    assert shown["totals"] == {"inBoth": 21, "missingHere": 4, "hereOnly": 0}
    # refunds are events 0, 5, 10, 15, 20: one of them (0) deleted
    assert shown["counts"] == {"charge.refunded": {"inBoth": 4, "missingHere": 1, "hereOnly": 0},
                               "payment_intent.succeeded": {"inBoth": 17, "missingHere": 3, "hereOnly": 0}}
    listed = [r for r in fake_stripe.requests if r.path == "/v1/events"]
    assert len(listed) == 3 and listed[1].query["starting_after"] == [events[9]["id"]]


def test_stripe_backfill_stores_them_marked_processes_them_and_a_second_run_backfills_nothing(
        stage: Stage, fake_stripe: FakeStripe) -> None:
    events = stripe_delivered(stage, fake_stripe, 6)
    gone = [events[1]["id"], events[4]["id"]]
    for event_id in gone:
        stage.delete(f"stripe#{event_id}")
    result = reconcile(stage, "stripe", "--backfill")
    assert result.exit_code == 0, result.output
    assert "stripe: 4 in both, 2 missing here, 0 here only; backfilled 2, already stored 0, failed 0" in result.stderr
    for event_id in gone:
        item = stage.item(f"stripe#{event_id}")
        assert (item["source"]["S"], item["status"]["S"], item["providerEventId"]["S"]) == (
            "reconcile", "ENQUEUED", event_id)
    assert stage.process()["batchItemFailures"] == []
    assert {stage.item(f"stripe#{e}")["status"]["S"] for e in gone} == {"PROCESSED"}
    assert stage.item(f"stripe#{events[0]['id']}").get("source") is None  # delivered ones are not marked
    again = reconcile(stage, "stripe", "--backfill", "--format", "json")
    assert again.exit_code == 0, again.output
    shown = json.loads(again.stdout)
    assert shown["totals"]["missingHere"] == 0 and shown["backfill"]["stored"] == []
    assert drain(stage.pipeline.sqs, stage.pipeline.queue_url) == []  # nothing enqueued the second time


def test_stripe_429_is_retried_after_retry_after_on_the_injected_clock(stage: Stage, fake_stripe: FakeStripe) -> None:
    stripe_delivered(stage, fake_stripe, 2)
    fake_stripe.throttle(2)
    result = reconcile(stage, "stripe", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["inBoth"] == 2
    assert fake_stripe.throttled == 2 and stage.sleeps == [7.0, 7.0]


def test_stripe_that_keeps_answering_429_fails_with_exit_1(stage: Stage, fake_stripe: FakeStripe) -> None:
    fake_stripe.throttle(100)
    result = reconcile(stage, "stripe")
    assert result.exit_code == 1
    assert "stripe API answered 429 to GET /v1/events 6 times" in result.stderr
    assert len(stage.sleeps) == 5


def test_a_window_longer_than_the_provider_keeps_is_refused_naming_the_limit(stage: Stage,
                                                                           fake_stripe: FakeStripe) -> None:
    result = reconcile(stage, "stripe", "--since", "31d")
    assert result.exit_code == 2
    assert "stripe keeps events for 30 days" in result.stderr
    assert fake_stripe.requests == []


def test_an_event_stored_here_only_is_reported_with_why(stage: Stage, fake_stripe: FakeStripe) -> None:
    events = stripe_delivered(stage, fake_stripe, 3)
    fake_stripe.events.remove(events[2])  # e.g. sent by `webhookctl send`: Stripe never had it
    result = reconcile(stage, "stripe")
    assert result.exit_code == 0, result.output
    assert "stripe: 2 in both, 0 missing here, 1 here only" in result.stderr
    assert "here only: stored events the provider's API does not list" in result.stderr
    assert result.stdout.splitlines()[0].split() == ["EVENT", "TYPE", "IN", "BOTH", "MISSING", "HERE", "HERE", "ONLY"]


# --- GitHub -----------------------------------------------------------------------------------------------

SPONSORSHIP = {"action": "created", "sponsorship": {
    "node_id": "MDExOlNwb25zb3JzaGlwMQ==", "created_at": "2026-01-02T19:24:46+00:00", "privacy_level": "public",
    "tier": {"node_id": "MDEyOlNwb25zb3JzVGllcjE=", "monthly_price_in_cents": 500, "name": "$5 a month"}},
    "sender": {"login": "monalisa", "id": 2, "type": "User"}}


def github_deliveries(stage: Stage, fake: FakeGithub, delivered: int, failed: int) -> list[tuple[str, bytes]]:
    """Deliveries GitHub recorded, as (guid, the bytes it signed); the first DELIVERED reached the receiver, the
    rest got a 500. The bytes are not compact JSON, so re-serialising the API's payload cannot reproduce them."""
    assert stage.invoke("connect", "--suffix", SUFFIX, "--provider", "github", "--yes",
                        "--no-test-event").exit_code == 0
    ((hook_id, _),) = fake.hooks.items()
    fake.transport, fake.clock = stage.post, lambda: stage.now
    sent = []
    for index in range(delivered + failed):
        guid = str(uuid.uuid4())
        payload = {**SPONSORSHIP, "sponsorship": {**SPONSORSHIP["sponsorship"], "node_id": f"SP_{index}"}}
        body = json.dumps(payload, indent=1).encode()
        if index < delivered:
            _, headers = sign_request("github", body, fake.secrets[hook_id], int(stage.now),
                                      {"event": "sponsorship", "delivery": guid})
            assert stage.deliver("github", body, headers)["statusCode"] == 200
        fake.deliver(hook_id, guid, payload, "sponsorship", stage.now - HOUR - index, 200 if index < delivered else 500,
                     body)
        sent.append((guid, body))
    assert stage.process()["batchItemFailures"] == []
    return sent


def github_id(body: bytes) -> str:
    """The receiver's identity for a GitHub event: the digest of the signed bytes."""
    return f"github#sha256:{hashlib.sha256(body).hexdigest()[:32]}"


def attempts(fake: FakeGithub) -> list[str]:
    return [r.path for r in fake.requests if r.method == "POST" and r.path.endswith("/attempts")]


def test_github_backfill_asks_github_to_redeliver_the_original_bytes_once(stage: Stage,
                                                                         fake_github: FakeGithub) -> None:
    fake_github.page_cap = 2
    sent = github_deliveries(stage, fake_github, delivered=3, failed=2)
    missing = [guid for guid, _ in sent[3:]]
    result = reconcile(stage, "github", "--backfill", "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert sorted(e["eventId"] for e in shown["missingHere"]) == sorted(missing)
    assert shown["counts"] == {"sponsorship.created": {"inBoth": 3, "missingHere": 2, "hereOnly": 0}}
    assert shown["backfill"]["by"] == "redelivery" and shown["backfill"]["stored"] == []
    assert sorted(shown["backfill"]["redeliveryRequested"]) == sorted(missing)
    assert stage.item(github_id(sent[3][1])) is None  # requested, not yet sent
    assert fake_github.send_redeliveries() == [200, 200]
    pages = [r for r in fake_github.requests if r.path.endswith("/deliveries")]
    assert len(pages) == 3 and "cursor" in pages[1].query
    ((hook_id, recorded),) = fake_github.deliveries.items()
    failed_ids = {str(d["id"]) for d in recorded if d["guid"] in missing and not d["redelivery"]}
    assert sorted(p.rsplit("/", 2)[-2] for p in attempts(fake_github)) == sorted(failed_ids)
    assert all(p.startswith(f"/repos/{REPO}/hooks/{hook_id}/deliveries/") for p in attempts(fake_github))
    for guid, body in sent[3:]:
        # the identity the original signed bytes give (what any later redelivery gives too), not the
        # re-serialised payload's
        compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
        assert github_id(compact) != github_id(body)
        assert stage.item(github_id(compact)) is None
        item = stage.item(github_id(body))
        assert item["providerEventId"]["S"] == guid and "source" not in item  # through the verified path
    assert stage.process()["batchItemFailures"] == []
    assert {stage.item(github_id(b))["status"]["S"] for _, b in sent} == {"PROCESSED"}
    again = reconcile(stage, "github", "--backfill", "--format", "json")
    assert again.exit_code == 0, again.output
    shown = json.loads(again.stdout)
    assert shown["totals"] == {"inBoth": 5, "missingHere": 0, "hereOnly": 0}
    assert shown["backfill"]["redeliveryRequested"] == [] and len(attempts(fake_github)) == 2  # none asked again
    # a manual redelivery later is the same event: a duplicate, nothing enqueued
    guid, body = sent[4]
    _, headers = sign_request("github", body, fake_github.secrets[hook_id], int(stage.now),
                              {"event": "sponsorship", "delivery": guid})
    assert json.loads(stage.deliver("github", body, headers)["body"])["duplicate"] is True
    assert drain(stage.pipeline.sqs, stage.pipeline.queue_url) == []


def test_github_backfill_summary_says_redelivery_requested_not_stored(stage: Stage, fake_github: FakeGithub) -> None:
    github_deliveries(stage, fake_github, delivered=1, failed=1)
    result = reconcile(stage, "github", "--backfill")
    assert result.exit_code == 0, result.output
    assert "github: 1 in both, 1 missing here, 0 here only; redelivery requested 1, failed 0" in result.stderr
    assert "backfilled" not in result.stderr and "stored" not in result.stderr
    assert fake_github.send_redeliveries() == [200]
    again = reconcile(stage, "github", "--backfill")
    assert "github: 2 in both, 0 missing here, 0 here only; redelivery requested 0, failed 0" in again.stderr


def test_github_a_redelivery_that_never_reached_the_store_is_asked_for_again(stage: Stage,
                                                                           fake_github: FakeGithub) -> None:
    sent = github_deliveries(stage, fake_github, delivered=1, failed=1)
    fake_github.transport = lambda url, body, headers: 502  # GitHub accepted the request; the endpoint was down
    first = json.loads(reconcile(stage, "github", "--backfill", "--format", "json").stdout)
    assert first["backfill"]["redeliveryRequested"] == [sent[1][0]]
    assert fake_github.send_redeliveries() == [502] and stage.item(github_id(sent[1][1])) is None
    fake_github.transport = stage.post
    second = json.loads(reconcile(stage, "github", "--backfill", "--format", "json").stdout)
    assert second["backfill"]["redeliveryRequested"] == [sent[1][0]] and len(attempts(fake_github)) == 2
    assert fake_github.send_redeliveries() == [200]
    assert stage.item(github_id(sent[1][1]))["status"]["S"] == "ENQUEUED"


def test_github_secondary_rate_limit_is_waited_out(stage: Stage, fake_github: FakeGithub) -> None:
    github_deliveries(stage, fake_github, delivered=1, failed=1)
    fake_github.throttle(1)
    result = reconcile(stage, "github", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["missingHere"] == 1 and stage.sleeps == [7.0]


def test_github_window_is_three_days(stage: Stage, fake_github: FakeGithub) -> None:
    result = reconcile(stage, "github", "--since", "4d")
    assert result.exit_code == 2 and "github keeps events for 3 days" in result.stderr


def test_github_reconcile_needs_the_hook_for_the_stack(stage: Stage, fake_github: FakeGithub) -> None:
    result = reconcile(stage, "github")
    assert result.exit_code == 2
    assert "run `webhookctl connect` first" in result.stderr


def test_github_a_delivery_that_cannot_be_redelivered_fails_the_run_and_the_rest_is_requested(
        stage: Stage, fake_github: FakeGithub) -> None:
    sent = github_deliveries(stage, fake_github, delivered=1, failed=2)
    ((hook_id, recorded),) = fake_github.deliveries.items()
    fake_github.lost.add(next(d["id"] for d in recorded if d["guid"] == sent[2][0]))
    result = reconcile(stage, "github", "--backfill")
    assert result.exit_code == 1
    assert "redelivery requested 1, failed 1" in result.stderr
    assert f"could not request the redelivery of {sent[2][0]}: github API answered 404" in result.stderr
    assert f"backfill {sent[1][0]}: redelivery requested 1, failed 0" in result.stderr  # progress, per event
    assert fake_github.send_redeliveries() == [200]
    again = reconcile(stage, "github", "--backfill")
    assert again.exit_code == 1 and "1 missing here" in again.stderr
    assert "redelivery requested 0, failed 1" in again.stderr
    arrived = next(d["id"] for d in recorded if d["guid"] == sent[1][0])
    assert len([p for p in attempts(fake_github) if f"/{arrived}/" in p]) == 1  # not asked for again


def test_an_unreachable_api_is_retried_then_named(stage: Stage, fake_stripe: FakeStripe,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOKCTL_STRIPE_API_BASE", "http://127.0.0.1:9")  # discard port: nothing listens
    result = reconcile(stage, "stripe")
    assert result.exit_code == 1
    assert "could not reach the stripe API at http://127.0.0.1:9" in result.stderr
    assert stage.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]  # no Retry-After: exponential back-off
