"""`webhookctl stats` beside the sandbox: the handlers' EMF lines, shipped to their log groups, become the
metrics stats reads (the emulator's embedded-metrics patch), in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.local.conftest import SandboxCliRunner, wait_for
from tests.local.test_sandbox import cli_app, deliver, finished
from webhookctl.cli import cli
from webhookctl.handlers.webhook_common.contract import acknowledged
from webhookctl.tryit.samples import sample_event

SENT = {"stripe": 2, "adyen": 1}
WEBHOOKCTL = Path(sys.executable).with_name("webhookctl")


def send_and_finish(sandbox) -> None:
    ids = []
    for provider, count in SENT.items():
        for _ in range(count):
            outcome = deliver(sandbox, sample_event(provider, "payment_succeeded", now=int(time.time())))
            assert outcome.reply.status == 200, outcome.problem
            ids += acknowledged(outcome.reply.headers)[0]
    for webhook_id in ids:
        assert finished(sandbox, webhook_id)["status"] == "PROCESSED"


def stats_json(sandbox) -> dict:
    result = SandboxCliRunner(sandbox).invoke(cli, ["stats", "--suffix", "stats-local", "--format", "json",
                                                    "--since", "10m"], obj=cli_app(sandbox))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counts(report: dict) -> dict[str, tuple[int, int, int]]:
    return {p["provider"]: (p["accepted"], p["processed"], p["failed"]) for p in report["providers"]}


def shipped(sandbox) -> dict | None:
    """The report once every sent webhook shows as accepted and processed (the shipper flushes every 0.5 s)."""
    report = stats_json(sandbox)
    return report if counts(report) == {p: (n, n, 0) for p, n in SENT.items()} else None


def test_stats_counts_what_the_sandbox_received_and_processed_per_provider(sandbox):
    send_and_finish(sandbox)
    report = wait_for(lambda: shipped(sandbox), timeout=15, every=0.25)
    stripe = next(p for p in report["providers"] if p["provider"] == "stripe")
    assert stripe["latencyP50Ms"] is not None and stripe["latencyP99Ms"] >= stripe["latencyP50Ms"] >= 0
    assert stripe["sparkline"][-1] != "▁"  # the trend's last bar holds this test's webhooks
    assert (report["total"]["accepted"], report["total"]["processed"]) == (3, 3)

    # The same figures from a real `webhookctl stats` process, pointed at the sandbox's endpoint.
    environment = {**os.environ, "AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_REGION": "us-east-1",
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
                   "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    environment.pop("AWS_PROFILE", None)
    done = subprocess.run([str(WEBHOOKCTL), "stats", "--suffix", "stats-local", "--format", "json", "--since", "10m"],
                          env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert counts(json.loads(done.stdout)) == counts(report)
    assert "one trend bar per 60 s" in done.stderr
