"""The sandbox behaves like the edge: the stage's throttle (429) and the WAF's per-IP rate rule (403), with the
deployed template's values, and an X-Ray trace id per request that reaches the handlers' log lines."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from tests.local.conftest import SandboxCliRunner, Shown, wait_for
from tests.local.test_sandbox import cli_app, finished, target
from webhookctl.cli import cli
from webhookctl.handlers.webhook_common.contract import acknowledged
from webhookctl.handlers.webhook_common.contract import stack as keys
from webhookctl.tryit import apigw, send
from webhookctl.tryit.console import edge_notes
from webhookctl.tryit.edge_limits import (
    LOOPBACK,
    Edge,
    EdgeLimits,
    RateRule,
    TokenBucket,
    default_limits,
    deployed_limits,
    limits_from_template,
)
from webhookctl.tryit.samples import sample_event
from webhookctl.tryit.sandbox import Sandbox, SandboxOptions, make_edge, start_sandbox

TRACE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
# Small limits, deployed as settings: the edge must read them back from the stack.
EDGE_SETTINGS = (("api_rate_limit", "5"), ("api_burst_limit", "3"), ("waf_rate_limit", "10"),
                 ("waf_window_seconds", "60"), ("trusted_cidrs", "192.0.2.0/24"))


class FakeClock:
    """A clock the test moves: no sleeps."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limits(**changes) -> EdgeLimits:
    base = dict(rate_per_s=5.0, burst=3, waf_limit=10, waf_window_s=60, trusted=("192.0.2.0/24",),
                managed_rule_groups=(), source="a test")
    return EdgeLimits(**{**base, **changes})


# --- reading the values from the template


def test_limits_are_the_rendered_templates_own_values():
    from webhookctl.templates import Settings, build_template

    settings = Settings.from_overrides(dict(EDGE_SETTINGS), suffix="edge")
    read = limits_from_template(json.loads(build_template(settings).to_json()))
    assert (read.rate_per_s, read.burst, read.waf_limit, read.waf_window_s, read.trusted) == (
        5.0, 3, 10, 60, ("192.0.2.0/24",))
    assert read.managed_rule_groups == ("AWSManagedRulesAmazonIpReputationList",
                                        "AWSManagedRulesKnownBadInputsRuleSet")


def test_a_template_without_stage_throttle_or_rate_rule_gets_the_account_limits_and_no_waf_rule():
    read = limits_from_template({"Resources": {"Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {}}}})
    assert (read.rate_per_s, read.burst, read.waf_limit) == (10_000.0, 5_000, None)


def test_when_the_emulator_cannot_return_the_template_the_settings_defaults_apply_and_say_so():
    class NoTemplates:
        def get_template(self, **kwargs):
            raise NotImplementedError("GetTemplate")

    read = deployed_limits(NoTemplates(), "payment-webhooks-x")
    assert (read.rate_per_s, read.burst, read.waf_limit, read.waf_window_s) == (1000.0, 2000, 600, 300)
    assert read.source == "the Settings defaults (GetTemplate failed: NotImplementedError)"
    assert read == default_limits(read.source)


# --- the throttle and the rate rule, on a fake clock


def test_the_stage_token_bucket_admits_the_burst_then_refills_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)  # one token back at 2/s
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.advance(60)  # refills to the burst, not beyond
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_the_waf_rule_blocks_a_source_past_its_limit_within_the_window_only():
    clock = FakeClock()
    rule = RateRule(limit=10, window_s=60, trusted=(), clock=clock)
    assert [rule.allow("198.51.100.1") for _ in range(11)] == [True] * 10 + [False]
    assert rule.allow("198.51.100.2"), "each source IP is counted on its own"
    clock.advance(59)
    assert not rule.allow("198.51.100.1")
    clock.advance(61)  # every request counted above is now older than the window
    assert rule.allow("198.51.100.1")


def test_trusted_cidrs_are_never_counted():
    rule = RateRule(limit=10, window_s=60, trusted=("192.0.2.0/24",), clock=FakeClock())
    assert all(rule.allow("192.0.2.77") for _ in range(50))
    assert not all(rule.allow("192.0.3.1") for _ in range(50))


def test_the_waf_decides_before_the_throttle_and_a_block_spends_no_token():
    edge = Edge(limits(waf_limit=10, burst=11, rate_per_s=0), FakeClock())
    answers = [(refusal := edge.refuse("198.51.100.9")) and refusal.status for _ in range(12)]
    assert answers == [None] * 10 + [403, 403]
    assert edge.stage.tokens == 1  # 11 - 10 admitted: the blocked requests took none


def test_refusals_are_api_gateways_own_answers():
    edge = Edge(limits(waf_limit=None, burst=0), FakeClock())
    throttled = edge.refuse("198.51.100.1")
    assert (throttled.status, throttled.body, dict(throttled.headers)["x-amzn-ErrorType"]) == (
        429, b'{"message":"Too Many Requests"}', "TooManyRequestsException")
    blocked = Edge(limits(waf_limit=10), FakeClock())
    [blocked.refuse("198.51.100.1") for _ in range(10)]
    forbidden = blocked.refuse("198.51.100.1")
    assert (forbidden.status, forbidden.body) == (403, b'{"message":"Forbidden"}')


def test_the_sandbox_edge_trusts_loopback_by_default_and_can_count_it_or_be_off():
    clock = FakeClock()
    default = make_edge(SandboxOptions(edge_clock=clock), limits())
    counted = make_edge(SandboxOptions(edge_clock=clock, loopback_trusted=False), limits(burst=100))
    assert default.waf.exempt("127.0.0.1") and default.waf.exempt("::1") and not default.waf.exempt("10.0.0.1")
    assert [counted.refuse("127.0.0.1") is None for _ in range(11)] == [True] * 10 + [False]
    assert make_edge(SandboxOptions(edge_limits=False), limits()) is None
    assert LOOPBACK == ("127.0.0.0/8", "::1/128")


def test_at_the_default_limits_a_2000_webhook_local_benchmark_is_not_refused():
    from webhookctl.templates import Settings, build_template

    defaults = limits_from_template(json.loads(build_template(Settings(suffix="local")).to_json()))
    edge = make_edge(SandboxOptions(edge_clock=FakeClock()), defaults)  # the clock never moves: burst only
    assert all(edge.refuse("127.0.0.1") is None for _ in range(2000))
    assert edge.refuse("127.0.0.1").status == 429  # the stage's burst of 2000 is spent: API Gateway's 429


def test_the_startup_notes_say_once_that_managed_rule_groups_are_not_emulated():
    notes = edge_notes(limits(managed_rule_groups=("AWSManagedRulesKnownBadInputsRuleSet",)), enforced=True,
                       loopback_trusted=False)
    assert notes[0] == ("edge limits from a test: stage 5 requests/s, burst 3; WAF 10 requests per 60 s per "
                        "source IP (trusted: 192.0.2.0/24)")
    assert [n for n in notes if "not emulated" in n] == [
        "  AWS managed WAF rule groups are not emulated (AWSManagedRulesKnownBadInputsRuleSet): no request is "
        "blocked by them"]
    assert edge_notes(limits(), enforced=False, loopback_trusted=True) == [
        "edge limits off: the gateway applies neither the stage throttle nor the WAF rate rule"]


# --- trace ids


def test_a_request_gets_a_new_trace_unless_it_carries_a_well_formed_one():
    assert apigw.new_trace_root(0x5759E988, lambda n: "ab" * n) == "1-5759e988-" + "ab" * 12
    given = [("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")]
    assert apigw.trace_root(given) == "1-5759e988-bd862e3fe1be46a994272793"
    assert apigw.trace_root([("X-Amzn-Trace-Id", "Root=nonsense")]) is None
    request = apigw.Request("POST", "/webhook/x", [*given, ("A", "b")], b"", "127.0.0.1", "h")
    assert apigw.with_trace(request, "1-00000001-" + "0" * 24).headers == [
        ("A", "b"), ("X-Amzn-Trace-Id", "Root=1-00000001-" + "0" * 24)]


# --- in the sandbox, with the limits deployed in its stack


@pytest.fixture(scope="module")
def said() -> list[str]:
    return []


@pytest.fixture(scope="module")
def sandbox(shown: Shown, said: list[str]) -> Iterator[Sandbox]:
    """Small limits, deployed; loopback counted by the WAF like any source (so `send` from here is blocked)."""
    running = start_sandbox(SandboxOptions(suffix="edge-limits", retry_delay_s=0, idle_s=0.02, stream_poll_s=0.05,
                                           alarm_every_s=0.1, settings=EDGE_SETTINGS, loopback_trusted=False),
                            said.append, show=shown)
    yield running
    running.stop()


@pytest.fixture
def clock(sandbox) -> FakeClock:
    """A fresh edge for each test, on a clock the test moves, with the limits read from the stack."""
    fake = FakeClock()
    sandbox.gateway.edge = make_edge(SandboxOptions(edge_clock=fake, loopback_trusted=False), sandbox.edge_limits)
    return fake


def test_the_sandbox_reads_its_limits_from_the_deployed_stack_and_says_so_once(sandbox, said):
    assert (sandbox.edge_limits.rate_per_s, sandbox.edge_limits.burst, sandbox.edge_limits.waf_limit,
            sandbox.edge_limits.waf_window_s, sandbox.edge_limits.trusted) == (5.0, 3, 10, 60, ("192.0.2.0/24",))
    assert sandbox.edge_limits.source == "the deployed template (GetTemplate payment-webhooks-edge-limits)"
    assert sum("AWS managed WAF rule groups are not emulated" in line for line in said) == 1
    assert sum(line.startswith("edge limits from the deployed template") for line in said) == 1


def test_send_count_past_the_burst_shows_api_gateways_429(sandbox, shown, clock):
    aim = target(sandbox, "stripe")
    result = SandboxCliRunner(sandbox).invoke(cli, ["send", "-p", "stripe", "--url", aim.url, "--secret", aim.secret,
                                      "--count", "7", "--concurrency", "3"], obj=cli_app(sandbox))
    assert result.exit_code == 1
    assert "7 sent in " in result.stdout and ", 4 unexpected" in result.stdout
    assert "4 of 7 deliveries got an unexpected answer" in result.output
    assert "expected 200, got 429" in result.output
    assert len(wait_for(lambda: shown.of("http", "-> 429 Too Many Requests"))) == 4


def test_send_count_past_the_waf_limit_shows_403_until_the_window_passes(sandbox, clock):
    aim = target(sandbox, "stripe")

    def one() -> send.Reply:
        clock.advance(1)  # 5 tokens a second: the stage never throttles these
        delivery = send.signed(sample_event("stripe", "refund", now=int(time.time())), aim, now=int(time.time()))
        return send.post(delivery)

    replies = [one() for _ in range(12)]
    assert [r.status for r in replies] == [200] * 10 + [403, 403]
    assert json.loads(replies[-1].body) == {"message": "Forbidden"}
    clock.advance(60)
    assert one().status == 200


def test_trusted_sources_pass_the_waf_and_others_are_counted(sandbox, clock):
    def status(source: str) -> int:
        clock.advance(1)
        return sandbox.gateway.handle(apigw.Request("POST", "/webhook/stripe", [], b"{}", source, "h")).status

    assert {status("192.0.2.10") for _ in range(15)} == {401}  # the receiver answered: no signature
    assert [status("203.0.113.5") for _ in range(11)] == [401] * 10 + [403]


def test_the_trace_id_reaches_the_receivers_and_processors_log_lines(sandbox, clock):
    aim = target(sandbox, "stripe")
    delivery = send.signed(sample_event("stripe", "payment_succeeded", now=int(time.time())), aim,
                           now=int(time.time()))
    reply = send.post(delivery)
    trace = reply.headers["X-Amzn-Trace-Id"]
    assert reply.status == 200 and TRACE.match(trace), reply
    [webhook_id], _ = acknowledged(reply.headers)
    finished(sandbox, webhook_id)

    def traced(group: str) -> list[dict]:
        events = sandbox.clients.logs.filter_log_events(logGroupName=sandbox.outputs[group])["events"]
        lines = [json.loads(e["message"]) for e in events if e["message"].startswith("{")]
        return [line for line in lines if line.get("webhookId") == webhook_id]

    receiver = wait_for(lambda: traced(keys.RECEIVER_LOG_GROUP.key), timeout=5)
    processor = wait_for(lambda: traced(keys.PROCESSOR_LOG_GROUP.key), timeout=5)
    assert {line.get("traceId") for line in receiver} == {trace}
    assert {line.get("traceId") for line in processor} == {trace}


def test_a_providers_own_trace_header_is_continued(sandbox, clock):
    given = "Root=1-5759e988-bd862e3fe1be46a994272793"
    response = sandbox.gateway.handle(apigw.Request("POST", "/webhook/stripe", [("X-Amzn-Trace-Id", given)], b"{}",
                                                    "198.51.100.1", "h"))
    assert dict(response.headers)["X-Amzn-Trace-Id"] == given
