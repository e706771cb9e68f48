"""Webhooks through the in-process sandbox (`local up`'s own start_sandbox), with every AWS call recorded.

The deliveries are signed and POSTed exactly as `webhookctl send` does (webhookctl.tryit.send: signed, post,
tampered), to the sandbox's gateway, so the receiver runs behind the same HTTP edge as with `local up`.
Each phase (new events, redeliveries, forged signatures, one sweep) is drained before the next starts, so
its calls are its own: the queue empty, every item final, the stream read up to its end, logs shipped.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.bench.awscalls import Call, CallRecorder, Invocation

PROVIDERS = ("stripe", "adyen", "square", "checkout", "razorpay", "paddle", "standard", "github")
KINDS = ("payment_succeeded", "payment_failed", "refund", "dispute")


@dataclass
class Phase:
    name: str
    webhooks: int
    calls: list[Call]
    invocations: list[Invocation]
    statuses: Counter[int] | None = None  # HTTP status -> count
    seconds: float = 0.0


@dataclass
class Run:
    phases: dict[str, Phase] = field(default_factory=dict)
    log_groups: dict[str, str] = field(default_factory=dict)  # log group -> function role
    memory_mb: dict[str, int] = field(default_factory=dict)  # role -> deployed MemorySize
    table: str = ""
    indexes: list[Any] = field(default_factory=list)  # tests.bench.cost.Index of the deployed table
    items: list[dict[str, Any]] = field(default_factory=list)  # the table after the "new" phase
    custom_metrics: int = 0  # metrics the functions' EMF lines created
    batch_size: int = 10
    sent: list[Any] = field(default_factory=list)  # the new deliveries, in order


def sandbox_options(suffix: str = "cost") -> Any:
    from webhookctl.tryit.sandbox import SandboxOptions

    # Fast pollers (as tests/local's fixture), and no scheduled sweep inside a phase: one is run on purpose.
    return SandboxOptions(suffix=suffix, retry_delay_s=0, idle_s=0.02, stream_poll_s=0.05, alarm_every_s=0.1,
                          sweep_every_s=3600.0)


@contextmanager
def recorded_sandbox(suffix: str = "cost") -> Iterator[tuple[Any, CallRecorder]]:
    """A fresh sandbox with the recorder installed on its functions; stopped (and the recorder removed) after."""
    from webhookctl.tryit.sandbox import start_sandbox

    recorder = CallRecorder().install()
    sandbox = start_sandbox(sandbox_options(suffix), lambda line: None)
    try:
        recorder.wrap_functions(sandbox.functions)
        yield sandbox, recorder
    finally:
        sandbox.stop()
        recorder.uninstall()


def deliveries(sandbox: Any, count: int, providers: tuple[str, ...] = PROVIDERS) -> list[Any]:
    """COUNT fresh events, providers and kinds in turn, each signed with the sandbox's secret."""
    from webhookctl.tryit import send
    from webhookctl.tryit.samples import sample_event

    made = []
    mix = itertools.cycle(itertools.product(KINDS, providers))
    for _ in range(count):
        kind, provider = next(mix)
        made.append(send.signed(sample_event(provider, kind, now=int(time.time())), _target(sandbox, provider),
                                now=int(time.time())))
    return made


def _target(sandbox: Any, provider: str) -> Any:
    from webhookctl.tryit import send

    entry = sandbox.signing_secrets[provider]
    return send.Target(f"{sandbox.webhook_url}{provider}", entry.secrets[0], dict(entry.options))


def redelivered(sandbox: Any, originals: list[Any]) -> list[Any]:
    """The same events again, signed afresh (as a provider's retry is)."""
    from webhookctl.tryit import send

    return [send.signed(d.sample, _target(sandbox, d.sample.provider), now=int(time.time()) + 1, expect="duplicate")
            for d in originals]


def forged(originals: list[Any]) -> list[Any]:
    from webhookctl.tryit import send

    return [send.tampered(d) for d in originals]


def run_phase(sandbox: Any, recorder: CallRecorder, name: str, batch: list[Any], *, concurrency: int = 8,
              timeout: float = 120.0) -> Phase:
    """POST the batch, wait until the pipeline is idle, and take the calls made meanwhile."""
    from webhookctl.tryit import send

    with recorder.ignoring():
        drain(sandbox, recorder, timeout=timeout)
    recorder.reset()
    started = time.perf_counter()
    with ThreadPoolExecutor(max(1, min(concurrency, len(batch) or 1))) as pool:
        replies = list(pool.map(send.post, batch))
    problems = [send.unexpected(d.expect, r) for d, r in zip(batch, replies, strict=True)]
    problems = [p for p in problems if p]
    if problems:
        raise AssertionError(f"{name}: {len(problems)} unexpected answers, first: {problems[0]}")
    with recorder.ignoring():
        drain(sandbox, recorder, timeout=timeout)
    calls, invocations = recorder.snapshot()
    return Phase(name, len(batch), calls, invocations, Counter(r.status for r in replies),
                 time.perf_counter() - started)


def run_sweep(sandbox: Any, recorder: CallRecorder) -> Phase:
    """One scheduled sweep (EventBridge invokes it every sweep_interval_minutes), with nothing stuck."""
    with recorder.ignoring():
        drain(sandbox, recorder)
    recorder.reset()
    sandbox.functions["sweeper"].invoke({"source": "aws.events", "detail-type": "Scheduled Event"})
    with recorder.ignoring():
        drain(sandbox, recorder)
    calls, invocations = recorder.snapshot()
    return Phase("sweep", 0, calls, invocations)


def drain(sandbox: Any, recorder: CallRecorder, *, timeout: float = 120.0, quiet_s: float = 0.4) -> None:
    """Until the queue is empty, no item is waiting, the stream poller is at the end, and the logs are shipped."""
    from webhookctl.handlers.webhook_common.contract import stack as keys

    sqs = sandbox.clients.sqs
    queue = sandbox.outputs[keys.PROCESSING_QUEUE_URL.key]
    deadline = time.monotonic() + timeout
    last_change, last_seen = time.monotonic(), -1
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        depth = sum(int(v) for v in attributes.values())
        _, invocations = recorder.snapshot()
        seen = len(invocations)
        if seen != last_seen or depth:
            last_change, last_seen = time.monotonic(), seen
        elif time.monotonic() - last_change >= quiet_s and not _pending(sandbox):
            break
        time.sleep(0.05)
    else:
        raise TimeoutError("the sandbox did not go idle")
    sandbox.shipper.flush()


def _pending(sandbox: Any) -> bool:
    """Whether any item is still RECEIVED/ENQUEUED (the processor has work in hand)."""
    from webhookctl.handlers.webhook_common.contract import stack as keys

    table = sandbox.outputs[keys.TABLE_NAME.key]
    pages = sandbox.clients.dynamodb.get_paginator("scan").paginate(
        TableName=table, Select="COUNT", FilterExpression="#s IN (:r, :e)", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": {"S": "RECEIVED"}, ":e": {"S": "ENQUEUED"}})
    return sum(page["Count"] for page in pages) > 0


def measure(count: int = 200, duplicates: int = 40, forgeries: int = 20, *, concurrency: int = 8,
            providers: tuple[str, ...] = PROVIDERS, suffix: str = "cost",
            progress: Callable[[str], None] = lambda line: None) -> Run:
    """The whole measurement in a sandbox of its own."""
    from webhookctl.handlers.webhook_common.contract import stack as keys

    with recorded_sandbox(suffix) as (sandbox, recorder):
        run = describe(sandbox)
        run.table = sandbox.outputs[keys.TABLE_NAME.key]
        new = deliveries(sandbox, count, providers)
        run.sent = new
        progress(f"sending {count} new webhooks")
        run.phases["new"] = run_phase(sandbox, recorder, "new", new, concurrency=concurrency)
        with recorder.ignoring():
            run.items = _scan(sandbox, run.table)
        if duplicates:
            progress(f"redelivering {duplicates}")
            run.phases["duplicate"] = run_phase(sandbox, recorder, "duplicate", redelivered(sandbox, new[:duplicates]),
                                                concurrency=concurrency)
        if forgeries:
            progress(f"forging {forgeries}")
            run.phases["forged"] = run_phase(sandbox, recorder, "forged", forged(new[:forgeries]),
                                             concurrency=concurrency)
        run.phases["sweep"] = run_sweep(sandbox, recorder)
        with recorder.ignoring():
            run.custom_metrics = _custom_metrics(sandbox)
    return run


def _scan(sandbox: Any, table: str) -> list[dict[str, Any]]:
    pages = sandbox.clients.dynamodb.get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def _custom_metrics(sandbox: Any) -> int:
    from webhookctl.handlers.webhook_common.contract import metrics as metric_names

    pages = sandbox.clients.cloudwatch.get_paginator("list_metrics").paginate(Namespace=metric_names.NAMESPACE)
    # what CloudWatch bills: each distinct name + dimensions (the emulator lists each once, as AWS does)
    return len({(m["MetricName"], frozenset((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
                for page in pages for m in page["Metrics"]})


def describe(sandbox: Any) -> Run:
    from tests.bench.cost import indexes_of
    from webhookctl.handlers.webhook_common.contract import stack as keys

    run = Run()
    table = sandbox.clients.dynamodb.describe_table(TableName=sandbox.outputs[keys.TABLE_NAME.key])["Table"]
    run.indexes = indexes_of(table)
    for role, function in sandbox.functions.items():
        run.log_groups[function.log_group] = role
        run.memory_mb[role] = function.memory_mb
    return run
