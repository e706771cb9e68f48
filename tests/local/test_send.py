"""`webhookctl send`: its signatures verify with the providers' own SDKs; its drills check the answers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from webhookctl.cli import cli
from webhookctl.tryit import send
from webhookctl.tryit.samples import KINDS, PROVIDERS, sample_event
from webhookctl.tryit.serving import stop_serving

NOW = int(time.time())  # for events whose signature time is never checked against the clock
URL = "https://hooks.example.com/live/webhook/square"
SECRETS = {
    "stripe": "whsec_test_0123456789abcdef", "standard": "whsec_" + base64.b64encode(b"k" * 24).decode(),
    "adyen": "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    "square": "sq-signature-key", "checkout": "cko-key", "razorpay": "rzp-secret",
    "paddle": "pdl_ntfset_01abc_secret", "github": "gh-secret",
}


def signed(provider: str, kind: str = "payment_succeeded", **target_options) -> send.Delivery:
    target = send.Target(URL, SECRETS[provider], target_options)
    # The SDKs check the signature's timestamp against their own clock: sign with the time of the test.
    now = int(time.time())
    return send.signed(sample_event(provider, kind, now=now), target, now=now)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


# --- the providers' own SDKs and recipes accept what send signs


def test_stripe_sdk_verifies_send_signature():
    import stripe

    delivery = signed("stripe", "refund")
    event = stripe.Webhook.construct_event(delivery.body.decode(), delivery.headers["Stripe-Signature"],
                                           SECRETS["stripe"])
    assert (event["id"], event["type"]) == (delivery.sample.event_id, "charge.refunded")


def test_standardwebhooks_library_verifies_send_signature():
    from standardwebhooks.webhooks import Webhook

    delivery = signed("standard", "dispute")
    payload = Webhook(SECRETS["standard"]).verify(delivery.body, lower(delivery.headers))
    assert payload["type"] == "dispute.created"
    assert lower(delivery.headers)["webhook-id"] == delivery.sample.event_id


def test_razorpay_sdk_verifies_send_signature():
    import razorpay

    delivery = signed("razorpay", "payment_failed")
    utility = razorpay.Client(auth=("key", "secret")).utility
    assert utility.verify_webhook_signature(delivery.body.decode(), delivery.headers["X-Razorpay-Signature"],
                                            SECRETS["razorpay"]) is True
    assert delivery.headers["X-Razorpay-Event-Id"] == delivery.sample.event_id


def test_paddle_sdk_verifies_send_signature():
    from paddle_billing.Notifications import Secret, Verifier

    class Request:
        def __init__(self, delivery):
            self.headers, self.body = delivery.headers, delivery.body

    delivery = signed("paddle", "refund")
    assert Verifier(maximum_variance=60).verify(Request(delivery), Secret(SECRETS["paddle"])) is True


def test_square_signature_is_the_sdk_recipe_over_the_notification_url():
    delivery = signed("square", notificationUrl=URL)
    mac = hmac.new(SECRETS["square"].encode(), URL.encode() + delivery.body, hashlib.sha256).digest()
    assert delivery.headers["x-square-hmacsha256-signature"] == base64.b64encode(mac).decode()


def test_adyen_signature_is_the_sdk_recipe_inside_every_item():
    delivery = signed("adyen", "refund")
    item = json.loads(delivery.body)["notificationItems"][0]["NotificationRequestItem"]
    fields = [item["pspReference"], item["originalReference"], item["merchantAccountCode"],
              item["merchantReference"], str(item["amount"]["value"]), item["amount"]["currency"],
              item["eventCode"], item["success"]]
    mac = hmac.new(binascii.a2b_hex(SECRETS["adyen"]), ":".join(fields).encode(), hashlib.sha256).digest()
    assert item["additionalData"]["hmacSignature"] == base64.b64encode(mac).decode()


@pytest.mark.parametrize(("provider", "name", "prefix"), [("checkout", "Cko-Signature", ""),
                                                          ("github", "X-Hub-Signature-256", "sha256=")])
def test_hex_hmac_providers_sign_the_raw_body(provider, name, prefix):
    delivery = signed(provider)
    assert delivery.headers[name] == prefix + hmac.new(SECRETS[provider].encode(), delivery.body,
                                                       hashlib.sha256).hexdigest()


def test_github_delivery_carries_event_and_delivery_headers():
    delivery = signed("github", "payment_succeeded")
    assert (delivery.headers["X-GitHub-Event"], delivery.headers["X-GitHub-Delivery"]) == (
        "marketplace_purchase", delivery.sample.event_id)


# --- samples: every provider and kind verifies with the receiver's verifier; tamper breaks each one


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_verifies_and_its_tampered_twin_does_not(provider, kind):
    from webhookctl.handlers.webhook_common.providers import PROVIDERS as TABLE
    from webhookctl.handlers.webhook_common.verification import InvalidSignature

    delivery = signed(provider, kind, notificationUrl=URL)
    verify, options = TABLE[provider].verify, {"notificationUrl": URL}
    now = int(time.time())
    verify(lower(delivery.headers), delivery.body, [SECRETS[provider]], options, now)
    bad = send.tampered(delivery)
    assert json.loads(bad.body) and len(bad.body) == len(delivery.body) and bad.body != delivery.body
    with pytest.raises(InvalidSignature):
        verify(lower(bad.headers), bad.body, [SECRETS[provider]], options, now)


def test_samples_are_fresh_each_time():
    ids = {sample_event("stripe", "payment_succeeded", now=NOW).event_id for _ in range(50)}
    assert len(ids) == 50


# --- answers


def reply(status: int, body: dict | str, duplicate: bool | None = None) -> send.Reply:
    from webhookctl.handlers.webhook_common.contract import acknowledgement

    headers = {} if duplicate is None else acknowledgement(["w"], duplicate)
    return send.Reply(status, body if isinstance(body, str) else json.dumps(body), 1.0, headers)


@pytest.mark.parametrize(("expect", "answer", "problem"), [
    ("new", reply(200, {"received": True, "webhookId": "w", "duplicate": False}, duplicate=False), None),
    ("new", reply(200, "[accepted]", duplicate=False), None),  # Adyen's answer; the facts are in the headers
    ("new", reply(200, {"received": True, "duplicate": True}, duplicate=True),
     'expected an acknowledgement with duplicate: false; got {"received": true, "duplicate": true}'),
    ("new", reply(200, "OK"), "expected an acknowledgement with duplicate: false; got OK"),
    ("duplicate", reply(200, {"received": True, "webhookId": "w", "duplicate": True}, duplicate=True), None),
    ("new", reply(500, {"message": "Internal server error"}), "expected 200, got 500"),
    ("rejected", reply(401, {"message": "invalid signature"}), None),
    ("rejected", reply(200, {"received": True}), "expected 401 for a tampered event, got 200"),
])
def test_unexpected_names_what_was_wrong(expect, answer, problem):
    assert send.unexpected(expect, answer) == problem


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert [send.percentile(values, p) for p in (50, 99, 100)] == [50.0, 99.0, 100.0]
    assert send.percentile([], 50) == 0.0


def test_concurrent_delivery_reports_throughput_from_the_clock():
    deliveries = [signed("stripe") for _ in range(20)]
    ticks = iter([10.0, 12.0])
    report = send.deliver_concurrently(deliveries, workers=4, clock=lambda: next(ticks),
                                       poster=lambda d: reply(200, {"received": True}, duplicate=False))
    assert (len(report.outcomes), report.per_second, report.percentile(99)) == (20, 10.0, 1.0)
    assert [o.delivery for o in report.outcomes] == deliveries


def test_check_raises_with_the_first_problem():
    outcome = send.Outcome(signed("stripe"), reply(401, {"message": "no"}))
    with pytest.raises(send.SendFailed, match=r"1 of 1 deliveries .* expected 200, got 401"):
        send.check([outcome])


@pytest.mark.parametrize(("document", "expected"), [
    ({"stripe": ["whsec_new", "whsec_old"]}, ("whsec_new", {})),
    ({"square": {"secrets": ["k"], "notificationUrl": URL}}, ("k", {"notificationUrl": URL})),
])
def test_the_newest_secret_signs_with_its_options(document, expected):
    from webhookctl.operate.secrets import newest_secret

    provider = next(iter(document))
    assert newest_secret(json.dumps(document), provider, "secret S") == expected


@pytest.mark.parametrize("document", [{"stripe": ["x"]}, {"adyen": []}, {"adyen": ["  "]}])
def test_no_usable_secret_for_the_provider_says_how_to_add_one(document):
    from webhookctl.edge.errors import UsageError
    from webhookctl.operate.secrets import newest_secret

    with pytest.raises(UsageError, match="secrets set --provider adyen"):
        newest_secret(json.dumps(document), "adyen", "secret S")


# --- the command, against a tiny verifying receiver


class FakeReceiver(BaseHTTPRequestHandler):
    """Verifies with the receiver's provider table and deduplicates by event id, like the real one."""

    seen: set = set()

    def do_POST(self):  # noqa: N802 (http.server's naming)
        from webhookctl.handlers.webhook_common.contract import acknowledgement
        from webhookctl.handlers.webhook_common.providers import PROVIDERS as TABLE
        from webhookctl.handlers.webhook_common.verification import VerificationError

        provider = self.path.rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            TABLE[provider].verify(headers, body, [SECRETS[provider]], {}, int(time.time()))
        except VerificationError:
            return self.answer(401, {"message": "invalid signature"})
        event_ids = [TABLE[provider].event_id(part, headers, body) for part in TABLE[provider].split(json.loads(body))]
        duplicate = all(event_id in self.seen for event_id in event_ids)
        self.seen.update(event_ids)
        ids = [f"{provider}#{event_id}" for event_id in event_ids]
        self.answer(200, {"received": True, "webhookId": ids[0], "duplicate": duplicate},
                    acknowledgement(ids, duplicate))

    def answer(self, status, payload, headers=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receiver_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook/"
    stop_serving(server.shutdown, server.server_address[:2])
    server.server_close()


def run(*args):
    return CliRunner().invoke(cli, ["send", *args])


def test_send_duplicate_expects_and_gets_duplicate_true(receiver_url):
    result = run("-p", "stripe", "--url", receiver_url + "stripe", "--secret", SECRETS["stripe"],
                 "--duplicate")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0, result.output
    assert [('"duplicate": false' in lines[0]), ('"duplicate": true' in lines[1]), len(lines)] == [
        True, True, 2]


def test_send_tamper_expects_and_gets_401(receiver_url):
    result = run("-p", "adyen", "--url", receiver_url + "adyen", "--secret", SECRETS["adyen"], "--tamper")
    assert (result.exit_code, "-> 401" in result.stdout, "[ok]" in result.stdout) == (0, True, True)


def test_send_exits_1_when_the_answer_is_not_the_expected_one(receiver_url):
    result = run("-p", "checkout", "--url", receiver_url + "checkout", "--secret", "wrong-secret")
    assert result.exit_code == 1
    assert "expected 200, got 401" in result.output


def test_send_count_prints_throughput_and_percentiles(receiver_url):
    result = run("-p", "paddle", "--url", receiver_url + "paddle", "--secret", SECRETS["paddle"],
                 "--count", "40", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("40 sent in ") and "webhooks/s" in result.stdout
    assert result.stdout.rstrip().endswith("0 unexpected")


def test_send_event_file_sends_the_file_bytes(receiver_url, tmp_path):
    event = tmp_path / "event.json"
    event.write_bytes(b'{"id": "evt_from_file", "type": "payment_intent.succeeded", "data": {}}')
    result = run("-p", "stripe", "--url", receiver_url + "stripe", "--secret", SECRETS["stripe"],
                 "--event", str(event))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("stripe payment_intent.succeeded evt_from_file -> 200")


def test_send_to_a_dead_endpoint_is_a_clear_error():
    result = run("-p", "github", "--url", "http://127.0.0.1:9/webhook/github", "--secret", "s")
    assert result.exit_code == 1
    assert "POST http://127.0.0.1:9/webhook/github failed" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "stripe"], "say where to send"),
    (["-p", "stripe", "--url", "http://x", "--secret", "s", "--duplicate", "--tamper"], "separate drills"),
])
def test_send_usage_errors_exit_2(args, message):
    result = run(*args)
    assert (result.exit_code, message in result.output) == (2, True)


@pytest.mark.parametrize(("last", "changed"), [("A", "B"), ("Z", "A"), ("z", "a"), ("9", "0"), ("f", "g")])
def test_tamper_changes_the_references_last_character_within_its_class(last, changed):
    sample = replace(sample_event("stripe", "refund", now=NOW), body=b'{"id":"pi_1' + last.encode() + b'"}',
                     reference="pi_1" + last)
    delivery = send.Delivery(sample, URL, sample.body, {}, "new")
    assert send.tampered(delivery).body == b'{"id":"pi_1' + changed.encode() + b'"}'
