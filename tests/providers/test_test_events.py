"""`connect`'s test event, the credential from a Secrets Manager secret, and backfill's retention.

The providers' test events are sent for real: the fake provider signs its test event as the provider does
and POSTs it to the URL it was given (the stack's WebhookUrl, which a transport maps to the sandbox's
gateway as DNS would map it to API Gateway); the sandbox's receiver verifies and stores it, its processor
finishes it, and `connect` sees that in the store. The timeout, refusal and credential cases run on the
stage (instant: the injected clock records the sleeps)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.local.conftest import SandboxCliRunner, point_at_sandbox
from tests.ops.conftest import SUFFIX
from tests.providers.conftest import REPO, WEBHOOK_URL, Stage
from tests.providers.fakes import FakeApi, FakeGithub, FakePaddle, FakeSquare, FakeStripe, post, stripe_event
from webhookctl.cli import cli
from webhookctl.edge.context import AppContext
from webhookctl.handlers.webhook_common import contract
from webhookctl.handlers.webhook_common.contract import stack as keys
from webhookctl.operate.connect import POLL_EVERY
from webhookctl.operate.provider_apis import GithubApi, StripeApi
from webhookctl.tryit.sandbox import Sandbox, SandboxOptions, start_sandbox

pytestmark = pytest.mark.slow
DAY = 86400
TTL_DAYS = 30  # not the default (90): backfill must take the deployed one
# No secrets cache: a receiver that loaded its secrets under 30 s ago would not re-read them for a key
# connect has just stored (see the report on SECRET_REFRESH_MIN_AGE); a deployed receiver's cache is older.
OPTIONS = SandboxOptions(suffix="test-events", retry_delay_s=0, idle_s=0.02, stream_poll_s=0.05,
                         alarm_every_s=0.1, settings=(("event_ttl_days", str(TTL_DAYS)),
                                                      ("secrets_cache_seconds", "0")))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox(OPTIONS, lambda line: None)
    yield running
    running.stop()


@pytest.fixture
def sandbox_environment(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root conftest hides AWS endpoints; the handlers here need them."""
    point_at_sandbox(monkeypatch, OPTIONS.region)


def through_gateway(sandbox: Sandbox) -> Callable[[str, bytes, dict[str, str]], int]:
    """A provider's POST to the stack's WebhookUrl, reaching the sandbox's gateway."""
    public = sandbox.outputs[keys.WEBHOOK_URL.key]

    def transport(url: str, body: bytes, headers: dict[str, str]) -> int:
        assert url.startswith(public), f"{url} is not the stack's webhook URL"
        return post(sandbox.webhook_url + url.removeprefix(public), body, headers)

    return transport


def local(sandbox: Sandbox, *args: str) -> Any:
    return SandboxCliRunner(sandbox).invoke(cli, [*args[:1], "--suffix", OPTIONS.suffix, *args[1:]],
                                            obj=AppContext(region=OPTIONS.region, endpoint_url=sandbox.endpoint_url))


def stored(sandbox: Sandbox, webhook_id: str) -> dict[str, Any]:
    return sandbox.clients.dynamodb.get_item(
        TableName=sandbox.outputs[keys.TABLE_NAME.key], ConsistentRead=True,
        Key={"webhookId": {"S": webhook_id}, "timestamp": {"S": contract.ITEM_TIMESTAMP}}).get("Item") or {}


@pytest.mark.usefixtures("sandbox_environment")
@pytest.mark.parametrize(("provider", "event_type", "status"), [
    ("github", "ping", contract.IGNORED),  # a ping is verified and stored, then IGNORED: no payment
    ("square", "payment.updated", contract.PROCESSED),
    ("paddle", "transaction.completed", contract.PROCESSED),
])
def test_connect_sees_the_providers_own_test_event_arrive(
        sandbox: Sandbox, request: pytest.FixtureRequest, provider: str, event_type: str, status: str) -> None:
    fake: FakeApi = request.getfixturevalue(f"fake_{provider}")
    fake.transport = through_gateway(sandbox)
    result = local(sandbox, "connect", "--provider", provider, "--yes", "--format", "json", "--test-timeout", "30")
    fake.settle()
    assert result.exit_code == 0, result.output
    tested = json.loads(result.stdout)["testEvent"]
    assert (tested["sent"], tested["ok"], tested["eventType"], tested["status"]) == (True, True, event_type, status)
    assert fake.tests_sent == [200]  # one test event, accepted by the receiver (signed with the stored secret)
    assert f"{provider}: test event {event_type} sent; waiting up to 30 s" in result.stderr
    if provider != "github":  # Square's answer and Paddle's run say which event was sent: found by id
        assert tested["webhookId"].startswith(f"{provider}#")
        assert stored(sandbox, tested["webhookId"])["status"]["S"] == status
    else:  # a ping's id is the digest of bytes GitHub's API does not show: found by type
        assert tested["webhookId"] is None and tested["endpointAnswered"] in (None, 200)  # (None: seen first)
    again = local(sandbox, "connect", "--provider", provider, "--yes")  # unchanged: the path is proven again
    fake.settle()
    assert again.exit_code == 0, again.output
    assert "nothing to change" in again.stderr and f"test event {event_type} {status}" in again.stdout
    assert fake.tests_sent == [200, 200]


@pytest.mark.usefixtures("sandbox_environment")
def test_backfill_stores_with_the_deployed_receivers_ttl(sandbox: Sandbox, fake_stripe: FakeStripe) -> None:
    now = int(time.time())
    fake_stripe.events += [stripe_event(i, now - 600 + i) for i in range(2)]
    assert local(sandbox, "connect", "--provider", "stripe", "--yes").exit_code == 0
    result = local(sandbox, "reconcile", "--provider", "stripe", "--since", "1h", "--backfill", "--format", "json")
    assert result.exit_code == 0, result.output
    backfilled = json.loads(result.stdout)["backfill"]["stored"]
    assert sorted(backfilled) == sorted(f"stripe#{e['id']}" for e in fake_stripe.events)
    for webhook_id in backfilled:
        item = stored(sandbox, webhook_id)
        assert item["source"]["S"] == "reconcile"
        expires = int(item[contract.TTL_ATTRIBUTE]["N"])
        assert now + TTL_DAYS * DAY <= expires <= int(time.time()) + TTL_DAYS * DAY  # not the default 90 days


# --- on the stage: what goes wrong, and what Stripe cannot do ----------------------------------------------


def connect(stage: Stage, *args: str) -> Any:
    return stage.invoke("connect", "--suffix", SUFFIX, "--yes", *args)


def test_a_test_event_that_never_arrives_fails_after_the_timeout_and_keeps_everything(
        stage: Stage, fake_github: FakeGithub) -> None:
    fake_github.send_tests = False  # GitHub accepts the ping request; nothing ever reaches the endpoint
    result = connect(stage, "--provider", "github", "--test-timeout", "10")
    assert result.exit_code == 1, result.output
    assert "github's test event ping was not stored within 10 s" in result.stderr
    assert "The endpoint stays registered and its secret stored" in result.stderr
    assert f"webhookctl logs --suffix {SUFFIX} --function receiver" in result.stderr
    assert stage.sleeps == [POLL_EVERY] * 5  # the injected clock: instant
    ((hook_id, hook),) = fake_github.hooks.items()  # kept
    assert hook["config"]["url"] == WEBHOOK_URL + "github"
    assert stage.secrets("github") == [fake_github.secrets[hook_id]]  # kept
    assert [r.path for r in fake_github.requests if r.method == "POST"] == [
        f"/repos/{REPO}/hooks", f"/repos/{REPO}/hooks/{hook_id}/pings"]


def test_a_test_event_the_endpoint_refuses_fails_at_once(stage: Stage, fake_square: FakeSquare) -> None:
    fake_square.transport = lambda url, body, headers: 401  # e.g. the receiver has another key
    result = connect(stage, "--provider", "square", "--format", "json")
    assert result.exit_code == 1
    assert "the endpoint answered square's test event with HTTP 401" in result.stderr
    tested = json.loads(result.stdout)["testEvent"]
    assert (tested["ok"], tested["endpointAnswered"], tested["status"]) == (False, 401, None)
    assert stage.sleeps == [] and len(fake_square.subscriptions) == 1 and len(stage.secrets("square")) == 1


@pytest.mark.parametrize(("answer", "why"), [
    (0, "github could not reach the endpoint with its test event (no HTTP answer)"),
    (401, "the endpoint answered github's test event with HTTP 401"),
])
def test_a_ping_the_endpoint_did_not_take_fails_once_github_records_it(stage: Stage, fake_github: FakeGithub,
                                                                        answer: int, why: str) -> None:
    fake_github.transport = lambda url, body, headers: answer
    stage.while_sleeping.append(fake_github.settle)
    result = connect(stage, "--provider", "github")
    assert result.exit_code == 1 and why in result.stderr
    assert fake_github.tests_sent == [answer] and len(stage.sleeps) <= 1  # not the whole timeout


def test_a_test_event_delivered_but_never_processed_names_its_status(stage: Stage, fake_paddle: FakePaddle) -> None:
    fake_paddle.transport = stage.post  # delivered to the receiver; this stage has no processor running
    stage.while_sleeping.append(fake_paddle.settle)
    result = connect(stage, "--provider", "paddle", "--test-timeout", "4")
    assert result.exit_code == 1
    assert "paddle's test event transaction.completed is ENQUEUED, not PROCESSED" in result.stderr
    assert "paddle: test event ENQUEUED" in result.stderr  # progress, when the status changed
    (simulation,) = fake_paddle.simulations.values()
    assert simulation["type"] == "transaction.completed"
    assert simulation["notification_setting_id"] == next(iter(fake_paddle.settings))
    assert connect(stage, "--provider", "paddle", "--test-timeout", "0").exit_code == 1
    fake_paddle.settle()
    assert len(fake_paddle.simulations) == 1 and len(fake_paddle.runs) == 2  # the simulation is reused


def test_stripe_has_no_test_event_api_and_connect_says_what_to_do(stage: Stage, fake_stripe: FakeStripe) -> None:
    result = connect(stage, "--provider", "stripe", "--format", "json")
    assert result.exit_code == 0, result.output
    tested = json.loads(result.stdout)["testEvent"]
    assert tested == {"sent": False, "ok": True, "hint": StripeApi.no_test}
    text = connect(stage, "--provider", "stripe")
    assert "stripe: no test event sent" in text.stderr and "stripe trigger payment_intent.succeeded" in text.stderr
    assert stage.sleeps == []


def test_no_test_event_skips_it(stage: Stage, fake_github: FakeGithub) -> None:
    assert connect(stage, "--provider", "github", "--no-test-event").exit_code == 0
    assert not [r for r in fake_github.requests if r.path.endswith("/pings")]


def test_a_dry_run_sends_no_test_event(stage: Stage, fake_github: FakeGithub) -> None:
    assert connect(stage, "--provider", "github", "--no-test-event").exit_code == 0
    assert connect(stage, "--provider", "github", "--dry-run").exit_code == 0
    assert not [r for r in fake_github.requests if r.path.endswith("/pings")]


# --- the credential from a Secrets Manager secret -------------------------------------------------------


def credential_secret(stage: Stage, name: str, value: str) -> str:
    stage.pipeline.secretsmanager.create_secret(Name=name, SecretString=value)
    return name


@pytest.mark.parametrize("shape", ["plain", "token", "variable"])
def test_the_credential_comes_from_a_named_secret(stage: Stage, fake_stripe: FakeStripe,
                                                  monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    monkeypatch.delenv("STRIPE_API_KEY")
    value = {"plain": fake_stripe.token, "token": json.dumps({"token": fake_stripe.token}),
             "variable": json.dumps({"STRIPE_API_KEY": fake_stripe.token, "GITHUB_TOKEN": "ghp_other"})}[shape]
    name = credential_secret(stage, "webhookctl/provider-apis", value)
    result = connect(stage, "--provider", "stripe", "--credential-secret", name)
    assert result.exit_code == 0, result.output
    assert fake_stripe.requests and {r.authorization for r in fake_stripe.requests} == {f"Bearer {fake_stripe.token}"}
    assert fake_stripe.token not in result.output
    assert stage.secrets("stripe") != [fake_stripe.token]  # the signing secret, not the credential, is stored


def test_reconcile_takes_the_credential_secret_too(stage: Stage, fake_stripe: FakeStripe,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY")
    monkeypatch.setenv("WEBHOOKCTL_CREDENTIAL_SECRET", credential_secret(stage, "stripe-key", fake_stripe.token))
    fake_stripe.events.append(stripe_event(1, int(stage.now) - 60))
    result = stage.invoke("reconcile", "--suffix", SUFFIX, "--provider", "stripe", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["missingHere"] == 1


def test_a_missing_credential_secret_is_a_usage_error_naming_it(stage: Stage, fake_stripe: FakeStripe) -> None:
    result = connect(stage, "--provider", "stripe", "--credential-secret", "no-such-secret")
    assert result.exit_code == 2
    assert "cannot read the credential secret no-such-secret (ResourceNotFoundException)" in result.stderr
    assert fake_stripe.requests == []


def test_a_credential_secret_without_the_providers_key_is_a_usage_error(stage: Stage, fake_stripe: FakeStripe) -> None:
    name = credential_secret(stage, "only-github", json.dumps({"GITHUB_TOKEN": "ghp_x"}))
    result = connect(stage, "--provider", "stripe", "--credential-secret", name)
    assert result.exit_code == 2
    assert "secret only-github holds no stripe API credential" in result.stderr and "ghp_x" not in result.output
    assert fake_stripe.requests == []


def test_a_rejected_credential_from_a_secret_names_the_secret_not_the_value(stage: Stage,
                                                                          fake_stripe: FakeStripe) -> None:
    name = credential_secret(stage, "stale-stripe-key", "sk_test_revoked_123")
    result = connect(stage, "--provider", "stripe", "--credential-secret", name)
    assert result.exit_code == 2
    assert "stripe rejected the credential in secret stale-stripe-key (HTTP 401)" in result.stderr
    assert "sk_test_revoked_123" not in result.output


def test_list_reads_each_providers_key_of_a_shared_secret(stage: Stage, fake_stripe: FakeStripe,
                                                         fake_github: FakeGithub,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("STRIPE_API_KEY", "GITHUB_TOKEN"):
        monkeypatch.delenv(variable)
    name = credential_secret(stage, "all-providers", json.dumps({"STRIPE_API_KEY": fake_stripe.token,
                                                                 "GITHUB_TOKEN": fake_github.token}))
    result = stage.invoke("connect", "--suffix", SUFFIX, "--list", "--format", "json", "--credential-secret", name)
    assert result.exit_code == 0, result.output
    notes = {row["provider"]: row["note"] for row in json.loads(result.stdout)}
    assert notes["stripe"].startswith("no endpoint for") and notes["github"].startswith("no endpoint for")
    assert "holds no square API credential" in notes["square"] and "'SQUARE_ACCESS_TOKEN' key" in notes["square"]


# --- GitHub: what connect subscribes a hook to is what the normaliser maps ------------------------------

# The payment actions' payloads as GitHub sends them (docs.github.com/webhooks/webhook-events-and-payloads).
GITHUB_PAYMENTS = {
    "marketplace_purchase": {"action": "purchased", "effective_date": "2026-01-02T00:00:00+00:00",
                             "marketplace_purchase": {"account": {"type": "Organization", "id": 18404719},
                                                      "unit_count": 1, "plan": {"price_model": "FLAT_RATE",
                                                                                "monthly_price_in_cents": 1000}}},
    "sponsorship": {"action": "created", "sponsorship": {
        "node_id": "MDExOlNwb25zb3JzaGlwMQ==", "created_at": "2026-01-02T19:24:46+00:00",
        "tier": {"node_id": "MDEyOlNwb25zb3JzVGllcjE=", "monthly_price_in_cents": 500}}},
}


def test_each_github_event_connect_subscribes_to_is_one_the_normaliser_maps() -> None:
    from webhookctl.handlers.webhook_common import normalise
    from webhookctl.handlers.webhook_common.providers import PROVIDERS

    assert set(GithubApi.default_events) == set(normalise.SUBSCRIBED["github"]) == set(GITHUB_PAYMENTS)
    github = PROVIDERS["github"]
    for event, payload in GITHUB_PAYMENTS.items():
        kind = github.event_type(payload, {"x-github-event": event})  # the type the receiver stores
        assert kind == f"{event}.{payload['action']}"
        assert normalise.github(payload, kind) is not None, kind  # PROCESSED, not IGNORED
    # what connect's test event is: no payment, so IGNORED, as GithubApi.send_test expects
    assert normalise.github({"zen": "z", "hook_id": 1}, github.event_type({"zen": "z"}, {"x-github-event": "ping"})) \
        is None


# --- backfill's retention, on the stage: the receiver function's configuration, never the defaults ----------


def test_backfill_reads_the_receivers_ttl_from_its_function_configuration(stage: Stage,
                                                                         fake_stripe: FakeStripe) -> None:
    stage.configure_receiver(EVENT_TTL_DAYS="45")
    fake_stripe.events.append(stripe_event(7, int(stage.now) - 600))
    assert connect(stage, "--provider", "stripe", "--no-test-event").exit_code == 0
    result = stage.invoke("reconcile", "--suffix", SUFFIX, "--provider", "stripe", "--backfill")
    assert result.exit_code == 0, result.output
    item = stage.item("stripe#evt_1Fake000007")
    assert int(item[contract.TTL_ATTRIBUTE]["N"]) == int(stage.now) + 45 * DAY


def test_backfill_without_the_receivers_configuration_stores_nothing(stage: Stage, fake_stripe: FakeStripe) -> None:
    stage.pipeline.aws("lambda").delete_function(FunctionName=stage.pipeline.outputs["ReceiverFunctionName"])
    fake_stripe.events.append(stripe_event(8, int(stage.now) - 600))
    result = stage.invoke("reconcile", "--suffix", SUFFIX, "--provider", "stripe", "--backfill")
    assert result.exit_code == 1
    assert "cannot read the receiver's configuration (webhook-receiver-ops: ResourceNotFoundException)" in result.stderr
    assert stage.item("stripe#evt_1Fake000008") is None
