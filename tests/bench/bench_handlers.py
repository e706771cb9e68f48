"""Handler performance: receiver warm path, processor batch (AWS calls replaced by in-memory fakes, so only
our code is timed), and each handler's cold import next to `import boto3` in fresh interpreters that see only
the built handlers.zip and layer.zip, as Lambda does.

Targets (issue 13): receiver ≤ 0.1 ms/request for a 2 KiB Stripe event; processor ≤ 1 ms per 10-record
batch; cold import of each handler ≤ import boto3 + 15 ms.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
SECRET = "whsec_bench_0123456789abcdef"


def _on_path() -> None:
    if str(HANDLERS) not in sys.path:
        sys.path.insert(0, str(HANDLERS))


class FakeDynamoDB:
    """Answers like DynamoDB for the calls the handlers make, instantly."""

    def __init__(self, item: dict | None = None):
        self.item = item

    def put_item(self, **kwargs):
        return {}

    def update_item(self, **kwargs):
        return {}

    def get_item(self, **kwargs):
        return {"Item": self.item}


class FakeEvents:
    def put_events(self, Entries):  # noqa: N803 - boto3's own parameter name
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(len(Entries))]}


class FakeSQS:
    def send_message(self, **kwargs):
        return {"MessageId": "00000000-0000-0000-0000-000000000000"}


def stripe_event_2kib() -> bytes:
    """Stripe's documented payment_intent.succeeded (the handler tests' sample), padded to 2 KiB."""
    _on_path()
    from tests.handlers.samples import STRIPE_SUCCEEDED

    event = copy.deepcopy(STRIPE_SUCCEEDED)
    padding = 2048 - len(json.dumps(event)) - len(', "description": ""')
    event["data"]["object"]["description"] = "x" * padding
    encoded = json.dumps(event).encode()
    assert len(encoded) == 2048, len(encoded)
    return encoded


def _median_ms(call, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def bench_receiver() -> str:
    _on_path()
    import receiver
    from webhook_common import runtime
    from webhook_common.providers import sign_request
    from webhook_common.secrets import SecretsCache

    body, headers = sign_request("stripe", stripe_event_2kib(), SECRET, int(time.time()), {})
    event = {
        "httpMethod": "POST",
        "pathParameters": {"provider": "stripe"},
        "headers": headers,
        "body": body.decode(),
        "isBase64Encoded": False,
        "requestContext": {"domainName": "example.com", "path": "/prod/webhook/stripe"},
    }
    config = runtime.ReceiverConfig("PaymentWebhooks-bench", "https://sqs/bench", "arn:bench", 90, 400, 300)
    secrets = SecretsCache(lambda: json.dumps({"stripe": [SECRET]}), ttl=300)
    deps = receiver.Deps(FakeDynamoDB(), FakeSQS(), secrets, config)
    with contextlib.redirect_stdout(io.StringIO()):
        assert receiver.receive(event, deps)["statusCode"] == 200
        median = _median_ms(lambda: receiver.receive(event, deps), 3000)
    return f"receiver warm path, 2 KiB Stripe event: median {median:.3f} ms/request (target <= 0.1)"


def bench_processor() -> str:
    _on_path()
    import processor
    from webhook_common import runtime

    payload = stripe_event_2kib().decode()
    item = {
        "webhookId": {"S": "stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF"},
        "timestamp": {"S": "event"},
        "provider": {"S": "stripe"},
        "eventId": {"S": "evt_3MtwBwLkdIwHu7ix0QGdLBPF"},
        "eventType": {"S": "payment_intent.succeeded"},
        "status": {"S": "ENQUEUED"},
        "receivedAt": {"S": "2024-01-01T00:00:00.000Z"},
        "payload": {"S": payload},
        "expiresAt": {"N": "1"},
    }
    body = json.dumps({"webhookId": "stripe#evt_3MtwBwLkdIwHu7ix0QGdLBPF", "timestamp": "event"})
    records = [{"messageId": f"m{i}", "body": body} for i in range(10)]
    dynamodb, events = FakeDynamoDB(item), FakeEvents()
    config = runtime.ProcessorConfig("PaymentWebhooks-bench", "payment-events-bench", False, "payment-webhooks-bench")
    with contextlib.redirect_stdout(io.StringIO()):
        assert processor.process_batch(records, dynamodb, events, config) == {"batchItemFailures": []}
        median = _median_ms(lambda: processor.process_batch(records, dynamodb, events, config), 1000)
    return f"processor, 10-record batch (one PutEvents): median {median:.3f} ms/batch (target <= 1)"


@functools.cache
def _lambda_tree() -> tuple[str, str]:
    """handlers.zip and layer.zip unpacked as Lambda mounts them: (/var/task, /opt/python)."""
    from webhookctl.building.packaging import package_all

    root = Path(tempfile.mkdtemp(prefix="webhookctl-bench-"))
    artifacts = package_all(root / "zips", cache_dir=root / "cache")
    zipfile.ZipFile(artifacts.handlers.path).extractall(root / "task")
    zipfile.ZipFile(artifacts.layer.path).extractall(root / "opt")
    return str(root / "task"), str(root / "opt" / "python")


def _fresh(code: str) -> list[float]:
    """CODE in a bare interpreter (-S) that sees only the two zips, writing no bytecode (Lambda's are read-only)."""
    task, layer = _lambda_tree()
    prelude = f"import sys; sys.path[:0] = [{task!r}, {layer!r}]; "
    result = subprocess.run([sys.executable, "-S", "-c", prelude + code], capture_output=True, text=True,
                            check=True, env={"PYTHONDONTWRITEBYTECODE": "1"})
    return [float(x) * 1000 for x in result.stdout.split()]


def _alone(module: str) -> float:
    """ms to import module in a fresh interpreter."""
    return _fresh(f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)")[0]


def _over_boto3(module: str) -> float:
    """ms the module adds on top of an already imported boto3, in one fresh interpreter."""
    return _fresh(f"import time, boto3; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)")[0]


def bench_cold_imports(rounds: int = 9) -> list[str]:
    handlers = ("receiver", "processor", "audit", "sweeper")
    for module in ("boto3", *handlers):  # warms the file cache; not counted
        _alone(module)
    # Interleaved rounds, so background load on a shared machine hits every module alike.
    alone: dict[str, list[float]] = {m: [] for m in ("boto3", *handlers)}
    extra: dict[str, list[float]] = {m: [] for m in handlers}
    for _ in range(rounds):
        alone["boto3"].append(_alone("boto3"))
        for module in handlers:
            alone[module].append(_alone(module))
            extra[module].append(_over_boto3(module))
    baseline = statistics.median(alone["boto3"])
    lines = [f"cold import boto3: {baseline:.1f} ms (median of {rounds} fresh interpreters)"]
    for module in handlers:
        added = statistics.median(extra[module])
        verdict = "ok" if added <= 15 else "OVER"
        lines.append(
            f"cold import {module}: {statistics.median(alone[module]):.1f} ms; on top of boto3 "
            f"{added:+.1f} ms (target <= boto3 + 15 ms: {verdict})"
        )
    return lines


def run() -> list[str]:
    return [bench_receiver(), bench_processor(), *bench_cold_imports()]


if __name__ == "__main__":
    print("\n".join(run()))
