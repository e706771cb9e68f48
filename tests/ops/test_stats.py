"""`webhookctl stats`: the service's one GetMetricData call (Stubber), its figures from EMF lines the emulator
turns into metrics as CloudWatch Logs does, and the command's output and exit codes."""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.ops.conftest import FAKE_CREDENTIALS, REGION, STACK
from webhookctl.edge.clock import Clock
from webhookctl.edge.errors import UsageError
from webhookctl.handlers.webhook_common import metrics
from webhookctl.handlers.webhook_common.contract import metrics as names
from webhookctl.operate.stats import choose_period, metric_queries, sparkline, stack_stats

NOW = 1767225600.0  # 2026-01-01T00:00:00Z


# --- pure parts


def test_sparkline_scales_to_the_busiest_period_and_keeps_any_traffic_above_idle():
    assert sparkline([0, 1, 4, 8]) == "▁▂▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""


@pytest.mark.parametrize(("window", "period", "seconds"), [
    (3600, "auto", 180), (600, "auto", 60), (86400, "auto", 4320), (3600, "5m", 300), (3600, "1h", 3600)])
def test_period_is_auto_or_whole_minutes(window, period, seconds):
    assert choose_period(window, period) == seconds


@pytest.mark.parametrize("period", ["30s", "90s", "2026-01-01T00:00:00Z", "soon"])
def test_a_period_of_no_whole_minutes_is_a_usage_error(period):
    with pytest.raises(UsageError):
        choose_period(3600, period)


def test_queries_ask_counts_per_period_and_percentiles_over_the_window_for_each_provider_and_the_stack():
    queries, meaning = metric_queries(STACK, 180, 3600)
    assert len(queries) == len(meaning) == 10 * 9  # (8 providers + unknown + the stack's rollup) x 9 figures
    latency = [q["MetricStat"] for q in queries if q["MetricStat"]["Metric"]["MetricName"] == names.END_TO_END_LATENCY]
    assert {(s["Stat"], s["Period"]) for s in latency} == {("p50", 3600), ("p99", 3600)}
    rollup = [q for q in queries if meaning[q["Id"]][0] == "all"]
    assert all(q["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "Stack", "Value": STACK}] for q in rollup)
    assert all(q["MetricStat"]["Metric"]["Namespace"] == names.NAMESPACE for q in queries)


# --- the service, stubbed: one call, every page merged


def test_every_page_of_one_get_metric_data_call_is_merged():
    client = boto3.client("cloudwatch", region_name=REGION, **FAKE_CREDENTIALS)
    queries, meaning = metric_queries(STACK, 180, 3600)
    accepted = next(i for i, m in meaning.items() if m == ("stripe", names.ACCEPTED, "Sum"))
    p99 = next(i for i, m in meaning.items() if m == ("stripe", names.END_TO_END_LATENCY, "p99"))
    start = datetime.fromtimestamp(NOW - 3600, UTC)
    at = lambda minutes: datetime.fromtimestamp(NOW - 3600 + minutes * 60, UTC)  # noqa: E731
    stubber = Stubber(client)
    stubber.add_response("get_metric_data", {"NextToken": "t", "MetricDataResults": [
        {"Id": accepted, "Timestamps": [at(0)], "Values": [2.0], "StatusCode": "PartialData"}]},
        {"MetricDataQueries": ANY, "StartTime": start, "EndTime": ANY, "ScanBy": "TimestampAscending"})
    stubber.add_response("get_metric_data", {"MetricDataResults": [
        {"Id": accepted, "Timestamps": [at(57)], "Values": [3.0], "StatusCode": "Complete"},
        {"Id": p99, "Timestamps": [at(0)], "Values": [812.04], "StatusCode": "Complete"}]},
        {"MetricDataQueries": ANY, "StartTime": start, "EndTime": ANY, "ScanBy": "TimestampAscending",
         "NextToken": "t"})
    with stubber:
        report = stack_stats(client, STACK, NOW - 3600, NOW)
    [stripe] = report.providers
    assert (stripe.provider, stripe.accepted, stripe.latency_p99_ms, stripe.latency_p50_ms) == ("stripe", 5, 812.0,
                                                                                                  None)
    assert stripe.accepted_per_period == (2, *[0] * 18, 3)
    assert report.period_seconds == 180 and not report.empty


# --- through the emulator: EMF log lines become the metrics stats reads


def emf(values, provider, **options) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        metrics.emit(values, {names.STACK: STACK, names.PROVIDER: provider}, rollups=((names.STACK,),), **options)
    return out.getvalue().strip()


def ship(pipeline, *lines: str) -> None:
    group = pipeline.outputs["ProcessorLogGroupName"]
    pipeline.logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    pipeline.logs.put_log_events(logGroupName=group, logStreamName="s",
                                 logEvents=[{"timestamp": now, "message": line} for line in lines])


def received(accepted=0, duplicates=0, signature=0, other=0):
    return {names.ACCEPTED: accepted, names.DUPLICATES: duplicates, names.SIGNATURE_REJECTED: signature,
            names.REJECTED: other, names.SERVER_ERRORS: 0}


def test_stats_reads_the_figures_of_every_provider_from_the_emf_lines(pipeline):
    ship(pipeline, "START RequestId: x", emf(received(accepted=1), "stripe"), emf(received(accepted=1), "stripe"),
         emf(received(duplicates=1), "stripe"), emf(received(signature=1), "adyen"),
         emf(received(other=1), "unknown"),
         emf({names.PROCESSED: 2, names.FAILED: 0, names.END_TO_END_LATENCY: [100.0, 300.0]}, "stripe",
             units={names.END_TO_END_LATENCY: names.MILLISECONDS}))
    result = pipeline.invoke("stats", "--suffix", "ops", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by = {p["provider"]: p for p in report["providers"]}
    assert sorted(by) == ["adyen", "stripe", "unknown"]
    assert {k: by["stripe"][k] for k in ("accepted", "duplicates", "processed", "failed", "latencyP50Ms",
                                         "latencyP99Ms")} == {
        "accepted": 2, "duplicates": 1, "processed": 2, "failed": 0, "latencyP50Ms": 100.0, "latencyP99Ms": 300.0}
    assert by["adyen"]["rejected"] == {"signature": 1, "other": 0}
    assert by["unknown"]["rejected"] == {"signature": 0, "other": 1}
    assert (report["total"]["accepted"], report["total"]["processed"]) == (2, 2)
    assert sum(by["stripe"]["acceptedPerPeriod"]) == 2 and by["stripe"]["sparkline"].endswith("█")
    assert report["stack"] == STACK and report["periodSeconds"] == 180


def test_the_text_table_is_aligned_with_a_row_per_provider_and_the_total(pipeline):
    ship(pipeline, emf(received(accepted=3), "github"))
    result = pipeline.invoke("stats", "--suffix", "ops", "--since", "10m")
    assert result.exit_code == 0, result.output
    header, github, total = result.stdout.splitlines()
    assert header.split()[:3] == ["PROVIDER", "ACCEPTED", "DUPLICATES"]
    assert github.split()[:2] == ["github", "3"] and total.split()[:2] == ["all", "3"]
    assert header.index("ACCEPTED") == github.index("3") == total.index("3")
    assert "one trend bar per 60 s" in result.stderr


def test_no_data_is_no_error_and_says_so(pipeline):
    result = pipeline.invoke("stats", "--suffix", "ops")
    assert (result.exit_code, result.stdout) == (0, "")
    assert f"no webhooks in the last 1h ({STACK})" in result.stderr


def test_a_missing_stack_is_a_clear_error(pipeline):
    client = boto3.client("cloudformation", region_name=REGION, **FAKE_CREDENTIALS)
    stubber = Stubber(client)
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist")
    stubber.activate()
    result = pipeline.invoke("stats", "--suffix", "ops", cloudformation=client)
    assert result.exit_code == 1
    assert f"stack {STACK} not found" in result.stderr


def test_a_bad_since_or_period_is_a_usage_error(pipeline):
    assert pipeline.invoke("stats", "--suffix", "ops", "--since", "yesterday").exit_code == 2
    assert pipeline.invoke("stats", "--suffix", "ops", "--period", "45s").exit_code == 2


def test_the_window_follows_the_clock(pipeline):
    result = pipeline.invoke("stats", "--suffix", "ops", "--format", "json", "--since", "1h",
                             clock=Clock(time=lambda: NOW))
    assert json.loads(result.stdout)["end"] == "2026-01-01T00:00:00Z"
