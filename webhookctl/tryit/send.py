"""`webhookctl send`: sign sample events exactly as each provider does, POST them, and check the answers.

Signing is the receiver's own (webhook_common.providers), so what send produces is what the receiver
verifies. No click here; the clock, the HTTP call and the thread pool size are parameters.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from webhookctl.edge.errors import UsageError, WebhookctlError
from webhookctl.edge.jsondoc import json_object
from webhookctl.tryit.samples import Sample

Clock = Callable[[], float]


class SendFailed(WebhookctlError):
    """At least one delivery got an answer other than the one expected."""


@dataclass(frozen=True)
class Target:
    """Where to POST and what to sign with."""

    url: str
    secret: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One signed HTTP request, ready to send."""

    sample: Sample
    url: str
    body: bytes
    headers: dict[str, str]
    expect: str  # "new" | "duplicate" | "rejected"


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    latency_ms: float
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return json_object(self.body) or {}


@dataclass(frozen=True)
class Outcome:
    delivery: Delivery
    reply: Reply

    @property
    def problem(self) -> str | None:
        return unexpected(self.delivery.expect, self.reply)


def unexpected(expect: str, reply: Reply) -> str | None:
    """Why REPLY is not what a delivery expecting EXPECT should get, or None."""
    if expect == "rejected":
        return None if reply.status == 401 else f"expected 401 for a tampered event, got {reply.status}"
    if reply.status != 200:
        return f"expected 200, got {reply.status}"
    from webhookctl.handlers.webhook_common.contract import acknowledged

    answer, wanted = acknowledged(reply.headers), expect == "duplicate"
    if answer is None or answer[1] is not wanted:
        return f"expected an acknowledgement with duplicate: {str(wanted).lower()}; got {reply.body.strip()}"
    return None


# --- signing


def signed(sample: Sample, target: Target, *, now: int, expect: str = "new") -> Delivery:
    """The sample signed with the target's secret as its provider signs it (fresh timestamp)."""
    from webhookctl.handlers.webhook_common.providers import sign_request

    # Square signs the notification URL: the one configured with the secret, else the one we post to.
    options = {"requestUrl": target.url, **target.options, **sample.sign_options}
    body, signature = sign_request(sample.provider, sample.body, target.secret, now, options)
    headers = {"Content-Type": "application/json", **sample.headers, **signature}
    return Delivery(sample, target.url, body, headers, expect)


def tampered(delivery: Delivery) -> Delivery:
    """The same request with one byte of the signed content changed after signing (still valid JSON)."""
    body = delivery.body
    at = body.find(delivery.sample.reference.encode()) if delivery.sample.reference else -1
    at = at + len(delivery.sample.reference) - 1 if at >= 0 else _first_digit(body)
    changed = bytes([_other(body[at])])
    return replace(delivery, body=body[:at] + changed + body[at + 1:], expect="rejected")


def _first_digit(body: bytes) -> int:
    for index, byte in enumerate(body):
        if 0x30 <= byte <= 0x39:
            return index
    raise UsageError("cannot tamper with this event: it holds no digit to alter")


def _other(byte: int) -> int:
    """A different character of the same class, so the body stays valid JSON."""
    for first, size in ((0x30, 10), (0x41, 26), (0x61, 26)):  # digits, upper case, lower case
        if first <= byte < first + size:
            return first + (byte - first + 1) % size
    return 0x41 if byte != 0x41 else 0x42


# --- HTTP


def post(delivery: Delivery, *, timeout: float = 15.0, clock: Clock = time.perf_counter) -> Reply:
    """POSTs with urllib; any HTTP status is a Reply, a dead endpoint is a clear error."""
    request = urllib.request.Request(delivery.url, data=delivery.body, headers=delivery.headers,
                                     method="POST")
    started = clock()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text, headers = response.status, response.read().decode("utf-8", "replace"), response.headers
    except urllib.error.HTTPError as error:
        status, text, headers = error.code, error.read().decode("utf-8", "replace"), error.headers
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SendFailed(f"POST {delivery.url} failed: {reason}; is the endpoint up "
                         "(`webhookctl local up`, or `webhookctl status --suffix S`)?") from error
    return Reply(status, text, (clock() - started) * 1000, dict(headers.items()))


Poster = Callable[[Delivery], Reply]


def deliver(deliveries: Iterable[Delivery], poster: Poster = post) -> list[Outcome]:
    """One after the other, in order (a duplicate must follow its original)."""
    return [Outcome(delivery, poster(delivery)) for delivery in deliveries]


def deliver_concurrently(deliveries: list[Delivery], *, workers: int, poster: Poster = post,
                         clock: Clock = time.perf_counter) -> LoadReport:
    """All at once through a bounded pool; the report has throughput and latency percentiles."""
    started = clock()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(deliveries)))) as pool:
        replies = list(pool.map(poster, deliveries))
    elapsed = clock() - started
    return LoadReport([Outcome(d, r) for d, r in zip(deliveries, replies, strict=True)], elapsed)


@dataclass(frozen=True)
class LoadReport:
    outcomes: list[Outcome]
    elapsed_s: float

    @property
    def per_second(self) -> float:
        return len(self.outcomes) / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    def percentile(self, p: float) -> float:
        return percentile([o.reply.latency_ms for o in self.outcomes], p)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of VALUES; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


# --- where to send and with which secret


def resolve_target(app: Any, provider: str, suffix: str | None, url: str | None, use_local: bool,
                   secret: str | None) -> Target:
    """URL and secret from the flags, the local sandbox's state, or the stack's outputs."""
    from webhookctl.tryit.state import read_state, running_sandbox, sandbox_context

    # `webhookctl --local send ...` means the same as `webhookctl send --local ...`.
    use_local = use_local or (suffix is None and url is None and running_sandbox(app.endpoint_url) is not None)
    if use_local:
        state = sandbox_context(app, read_state())
        suffix = suffix or state.suffix
        url = url or f"{state.webhook_url}{provider}"
    if url and secret:
        return Target(url, secret)
    if suffix is None:
        raise UsageError("say where to send: --suffix S (a deployed stack), --local (the sandbox), "
                         "or --url URL with --secret")
    return stack_target(app.clients, provider, suffix, url, secret)


def stack_target(clients: Any, provider: str, suffix: str, url: str | None, secret: str | None) -> Target:
    from webhookctl.handlers.webhook_common.contract import stack as outputs
    from webhookctl.operate.secrets import newest_secret
    from webhookctl.stack.outputs import load_stack

    stack = load_stack(clients.cloudformation, suffix)
    url = url or stack.require(outputs.WEBHOOK_URL) + provider
    if secret:
        return Target(url, secret)
    arn = stack.require(outputs.SIGNING_SECRET_ARN)
    value = clients.secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
    secret, options = newest_secret(value, provider, f"secret {arn}")
    return Target(url, secret, options)


# --- the drills


@dataclass(frozen=True)
class SendRequest:
    provider: str
    kind: str = "payment_succeeded"
    body: bytes | None = None  # an event file's bytes, sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    duplicate: bool = False
    tamper: bool = False
    count: int = 1
    concurrency: int = 16

    def check(self) -> None:
        if sum((self.duplicate, self.tamper, self.count > 1)) > 1:
            raise UsageError("--duplicate, --tamper and --count are separate drills: pass one of them")
        if self.count > 1 and self.body is not None:
            raise UsageError("--count sends N distinct events, but --event FILE is one event (most providers "
                             "carry its id in the body): drop --event, or use --duplicate to test a redelivery")


def sample_factory(request: SendRequest, clock: Callable[[], float]) -> Callable[[], Sample]:
    """A function making a fresh sample each call (a file event keeps its body, gets fresh ids)."""
    from webhookctl.tryit.samples import file_event, sample_event

    def make() -> Sample:
        now = int(clock())
        from_file = file_event(request.provider, request.body, now=now) if request.body is not None else None
        sample = from_file or sample_event(request.provider, request.kind, now=now)
        return replace(sample, headers={**sample.headers, **request.headers})

    return make


def run_drill(request: SendRequest, target: Target, *, clock: Callable[[], float] = time.time,
              poster: Poster | None = None) -> list[Outcome] | LoadReport:
    """One event (tampered, or followed by its redelivery), or `count` distinct ones concurrently."""
    request.check()
    poster = poster or post
    make = sample_factory(request, clock)
    if request.count > 1:
        return deliver_concurrently([signed(make(), target, now=int(clock())) for _ in range(request.count)],
                                    workers=request.concurrency, poster=poster)
    first = signed(make(), target, now=int(clock()))
    outcomes = deliver([tampered(first)] if request.tamper else [first], poster)
    if request.duplicate:
        outcomes += deliver([signed(first.sample, target, now=int(clock()) + 1, expect="duplicate")], poster)
    return outcomes


def format_outcome(outcome: Outcome) -> str:
    sample, reply = outcome.delivery.sample, outcome.reply
    verdict = "ok" if outcome.problem is None else f"UNEXPECTED: {outcome.problem}"
    return (f"{sample.provider} {sample.event_type} {sample.event_id} -> {reply.status} "
            f"{reply.body.strip()} {reply.latency_ms:.1f} ms [{verdict}]")


def format_load(report: LoadReport) -> str:
    failed = sum(1 for o in report.outcomes if o.problem)
    return (f"{len(report.outcomes)} sent in {report.elapsed_s:.2f} s: {report.per_second:.1f} webhooks/s, "
            f"latency p50 {report.percentile(50):.1f} ms, p99 {report.percentile(99):.1f} ms, "
            f"{failed} unexpected")


def check(outcomes: list[Outcome]) -> None:
    """Raises SendFailed naming the first unexpected answer and how many there were."""
    problems = [o for o in outcomes if o.problem]
    if problems:
        first, sample = problems[0], problems[0].delivery.sample
        raise SendFailed(f"{len(problems)} of {len(outcomes)} deliveries got an unexpected answer; first: "
                         f"{sample.provider} {sample.event_id}: {first.problem}")
