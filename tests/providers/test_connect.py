"""`webhookctl connect` against the fake Stripe and GitHub APIs: create, update, rotate, dry run, list."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ops.conftest import SUFFIX
from tests.providers.conftest import WEBHOOK_URL, Stage
from tests.providers.fakes import FakeGithub, FakeStripe
from webhookctl.operate.provider_apis import GithubApi, StripeApi

pytestmark = pytest.mark.slow
STRIPE_URL, GITHUB_URL = WEBHOOK_URL + "stripe", WEBHOOK_URL + "github"


def connect(stage: Stage, *args: str) -> Any:
    """(The test event has tests of its own: test_test_events.py.)"""
    return stage.invoke("connect", "--suffix", SUFFIX, "--no-test-event", *args)


def test_stripe_create_registers_the_url_and_stores_the_returned_secret(stage: Stage, fake_stripe: FakeStripe) -> None:
    result = connect(stage, "--provider", "stripe", "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    (endpoint,) = fake_stripe.endpoints.values()
    assert endpoint["url"] == STRIPE_URL
    assert sorted(endpoint["enabled_events"]) == sorted(StripeApi.default_events)
    assert stage.secrets("stripe") == [endpoint["secret"]]
    shown = json.loads(result.stdout)
    assert (shown["action"], shown["endpointId"], shown["secretsStored"]) == ("create", endpoint["id"], 1)
    for secret in (endpoint["secret"], fake_stripe.token):
        assert secret not in result.output


def test_stripe_same_events_is_unchanged_and_other_events_update_in_place(stage: Stage,
                                                                           fake_stripe: FakeStripe) -> None:
    assert connect(stage, "--provider", "stripe", "--yes").exit_code == 0
    (endpoint_id,) = fake_stripe.endpoints
    again = connect(stage, "--provider", "stripe", "--yes")
    assert again.exit_code == 0 and "nothing to change" in again.stderr
    updated = connect(stage, "--provider", "stripe", "--yes", "--events", "charge.refunded,charge.succeeded")
    assert updated.exit_code == 0, updated.output
    assert "update done" in updated.stdout
    assert list(fake_stripe.endpoints) == [endpoint_id]
    assert fake_stripe.endpoints[endpoint_id]["enabled_events"] == ["charge.refunded", "charge.succeeded"]
    assert len(stage.secrets("stripe")) == 1  # an update leaves the secret alone


def test_stripe_rotate_stores_the_new_secret_first_then_deletes_the_old_endpoint(stage: Stage,
                                                                                  fake_stripe: FakeStripe) -> None:
    assert connect(stage, "--provider", "stripe", "--yes").exit_code == 0
    (old,) = fake_stripe.endpoints.values()
    old_secret = old["secret"]
    result = connect(stage, "--provider", "stripe", "--yes", "--rotate")
    assert result.exit_code == 0, result.output
    (new,) = fake_stripe.endpoints.values()
    assert new["id"] != old["id"] and new["url"] == STRIPE_URL
    assert stage.secrets("stripe") == [new["secret"], old_secret]  # newest first, the old still valid
    assert "secrets remove --provider stripe --keep-newest" in result.stderr


def test_stripe_dry_run_changes_nothing(stage: Stage, fake_stripe: FakeStripe) -> None:
    result = connect(stage, "--provider", "stripe", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "stripe: create endpoint " + STRIPE_URL in result.stdout
    assert "+ payment_intent.succeeded" in result.stdout
    assert fake_stripe.endpoints == {} and [r.method for r in fake_stripe.requests] == ["GET"]
    assert stage.secrets("stripe") == []


def test_without_yes_or_a_terminal_nothing_is_created(stage: Stage, fake_stripe: FakeStripe) -> None:
    result = connect(stage, "--provider", "stripe")
    assert result.exit_code == 1
    assert "pass --yes" in result.stderr
    assert fake_stripe.endpoints == {}


def test_a_missing_credential_is_a_usage_error_naming_the_variable(stage: Stage, fake_stripe: FakeStripe,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY")
    result = connect(stage, "--provider", "stripe", "--yes")
    assert result.exit_code == 2
    assert "set STRIPE_API_KEY" in result.stderr
    assert fake_stripe.requests == []


def test_a_rejected_credential_is_a_usage_error_that_does_not_print_it(stage: Stage, fake_stripe: FakeStripe,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_wrong_key_42")
    result = connect(stage, "--provider", "stripe", "--yes")
    assert result.exit_code == 2
    assert "stripe rejected the credential in STRIPE_API_KEY (HTTP 401)" in result.stderr
    assert "sk_test_wrong_key_42" not in result.output
    assert fake_stripe.requests[0].authorization == "Bearer sk_test_wrong_key_42"


def test_stripe_endpoint_is_removed_when_its_secret_cannot_be_stored(stage: Stage, fake_stripe: FakeStripe) -> None:
    stage.pipeline.secretsmanager.delete_secret(SecretId=stage.pipeline.outputs["SigningSecretArn"],
                                                ForceDeleteWithoutRecovery=True)
    result = connect(stage, "--provider", "stripe", "--yes")
    assert result.exit_code != 0
    assert fake_stripe.endpoints == {}  # Stripe shows a secret once: an endpoint we cannot verify is deleted
    assert [r.method for r in fake_stripe.requests] == ["GET", "POST", "DELETE"]


def test_github_create_stores_our_secret_before_the_hook_signs_with_it(stage: Stage,
                                                                      fake_github: FakeGithub) -> None:
    result = connect(stage, "--provider", "github", "--yes")
    assert result.exit_code == 0, result.output
    ((hook_id, hook),) = fake_github.hooks.items()
    assert hook["config"]["url"] == GITHUB_URL and hook["config"]["content_type"] == "json"
    assert sorted(hook["events"]) == sorted(GithubApi.default_events)
    assert stage.secrets("github") == [fake_github.secrets[hook_id]]
    assert fake_github.secrets[hook_id] not in result.output


def test_github_update_keeps_the_secret_and_rotate_changes_it_in_place(stage: Stage, fake_github: FakeGithub) -> None:
    assert connect(stage, "--provider", "github", "--yes").exit_code == 0
    ((hook_id, _),) = fake_github.hooks.items()
    first = fake_github.secrets[hook_id]
    assert connect(stage, "--provider", "github", "--yes", "--events", "sponsorship").exit_code == 0
    assert fake_github.hooks[hook_id]["events"] == ["sponsorship"] and fake_github.secrets[hook_id] == first
    result = connect(stage, "--provider", "github", "--yes", "--rotate", "--events", "sponsorship")
    assert result.exit_code == 0, result.output
    assert list(fake_github.hooks) == [hook_id]
    assert fake_github.secrets[hook_id] != first
    assert stage.secrets("github") == [fake_github.secrets[hook_id], first]


def test_github_without_a_target_is_a_usage_error(stage: Stage, fake_github: FakeGithub,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOKCTL_GITHUB_TARGET")
    result = connect(stage, "--provider", "github", "--yes")
    assert result.exit_code == 2
    assert "github needs --target OWNER/REPO" in result.stderr


def test_list_says_which_registrations_match_the_stack(stage: Stage, fake_stripe: FakeStripe,
                                                       fake_github: FakeGithub) -> None:
    assert connect(stage, "--provider", "stripe", "--yes").exit_code == 0
    assert connect(stage, "--provider", "github", "--yes", "--events", "sponsorship").exit_code == 0
    result = connect(stage, "--list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["provider"]: row for row in json.loads(result.stdout)}
    assert rows["stripe"]["matches"] is True and rows["stripe"]["url"] == STRIPE_URL
    assert rows["github"]["matches"] is False and rows["github"]["events"] == ["sponsorship"]
    text = connect(stage, "--list")
    assert "event types differ" in text.stdout


def test_list_names_the_variable_of_a_provider_without_credential(stage: Stage, fake_stripe: FakeStripe) -> None:
    result = connect(stage, "--list")
    assert result.exit_code == 0, result.output
    assert "set GITHUB_TOKEN" in result.stdout
    assert "no endpoint for " + STRIPE_URL in result.stdout


def test_the_subscribed_types_are_the_ones_each_normaliser_maps() -> None:
    from webhookctl.handlers.webhook_common import normalise

    stripe = {"created": 1, "data": {"object": {"id": "x", "payment_intent": "pi", "charge": "ch", "currency": "usd",
                                                "amount": 1, "amount_received": 1,
                                                "amount_refunded": 1, "amount_total": 1}}}
    assert [t for t in StripeApi.default_events if normalise.stripe(stripe, t) is None] == []
    assert normalise.stripe(stripe, "customer.created") is None
    money = {"amount": 1, "currency": "USD"}
    square = {"created_at": "2026-01-01T00:00:00Z", "data": {"object": {
        "payment": {"id": "p", "status": "COMPLETED", "amount_money": money},
        "refund": {"payment_id": "p", "amount_money": money}, "dispute": {"id": "d", "amount_money": money}}}}
    assert [t for t in normalise.SUBSCRIBED["square"] if normalise.square(square, t) is None] == []
    paddle = {"occurred_at": "2026-01-01T00:00:00Z", "data": {
        "id": "txn", "transaction_id": "txn", "currency_code": "USD", "action": "refund",
        "details": {"totals": {"grand_total": "1"}}, "totals": {"total": "1"}}}
    assert [t for t in normalise.SUBSCRIBED["paddle"] if normalise.paddle(paddle, t) is None] == []


def test_a_throttled_create_is_retried_with_the_same_idempotency_key(stage: Stage, fake_stripe: FakeStripe) -> None:
    stage.invoke("connect", "--suffix", SUFFIX, "--provider", "stripe", "--dry-run")  # the GET, unthrottled
    fake_stripe.throttle(1)
    fake_stripe.throttle_methods = {"POST"}
    result = connect(stage, "--provider", "stripe", "--yes")
    assert result.exit_code == 0, result.output
    posts = [r for r in fake_stripe.requests if r.method == "POST"]
    assert len(posts) == 2 and posts[0].idempotency_key == posts[1].idempotency_key != ""
    assert len(fake_stripe.endpoints) == 1 and stage.sleeps == [7.0]
