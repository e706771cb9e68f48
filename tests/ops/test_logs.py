"""logs: --since parsing, paginated fetch from the function's log group, --follow printing each event once."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.ops.conftest import SUFFIX
from webhookctl.edge.clock import Clock
from webhookctl.edge.errors import UsageError
from webhookctl.operate.logs import fetch, live_tail, parse_since, poll, webhook_pattern

NOW = 1767225600.0  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize("text, expected_ms", [
    ("30s", (NOW - 30) * 1000), ("10m", (NOW - 600) * 1000), ("2h", (NOW - 7200) * 1000),
    ("1d", (NOW - 86400) * 1000), ("2025-12-31T23:00:00Z", (NOW - 3600) * 1000),
    ("2025-12-31T23:00:00", (NOW - 3600) * 1000), ("2026-01-01T01:00:00+02:00", (NOW - 3600) * 1000)])
def test_since_accepts_durations_and_iso_times(text, expected_ms):
    assert parse_since(text, NOW) == int(expected_ms)


@pytest.mark.parametrize("text", ["10 minutes", "-5m", "yesterday", "10y", ""])
def test_since_rejects_anything_else_with_the_accepted_forms(text):
    with pytest.raises(UsageError, match=r"is neither a duration \(30s, 10m, 2h, 1d\) nor an ISO time"):
        parse_since(text, NOW)


def stubbed_logs(*answers: tuple[dict, dict]) -> tuple[Any, Stubber]:
    """A real CloudWatch Logs client answering filter_log_events from a script: (expected request, page)."""
    client = boto3.client("logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for request, page in answers:
        stubber.add_response("filter_log_events", page, request)
    stubber.activate()
    return client, stubber


def event(event_id, ms, message="m"):
    return {"eventId": event_id, "timestamp": ms, "logStreamName": "s", "message": message}


def test_fetch_reads_every_page():
    request = {"logGroupName": "g", "startTime": 0, "filterPattern": "ERROR"}
    logs, stubber = stubbed_logs((request, {"events": [event("a", 1)], "nextToken": "t1"}),
                                 ({**request, "nextToken": "t1"}, {"events": [event("b", 2)]}))
    assert [e.event_id for e in fetch(logs, "g", 0, "ERROR")] == ["a", "b"]
    stubber.assert_no_pending_responses()


def test_polling_prints_each_event_once_and_looks_back_for_late_ones():
    # GIVEN a first poll with a and b, then a poll returning b again plus a late-ingested c (older than b)
    logs, stubber = stubbed_logs(
        ({"logGroupName": "g", "startTime": 50_000}, {"events": [event("a", 100_000), event("b", 200_000)]}),
        ({"logGroupName": "g", "startTime": 200_000 - 30_000},
         {"events": [event("b", 200_000), event("c", 190_000), event("d", 250_000)]}))
    slept = []
    # WHEN polling twice
    seen = [e.event_id for e in poll(logs, {"processor": "g"}, 50_000, None, sleep=slept.append, poll_seconds=2,
                                     polls=2)]
    # THEN every event once, the second poll starting lag_ms before the newest seen
    assert seen == ["a", "b", "c", "d"] and slept == [2]
    stubber.assert_no_pending_responses()


class LiveTailLogs:
    """StartLiveTail's event stream (the shape botocore parses it into), for one session."""

    def __init__(self, arn: str) -> None:
        self.arn, self.requests = arn, []

    def describe_log_groups(self, **request):
        return {"logGroups": [{"logGroupName": request["logGroupNamePrefix"], "logGroupArn": self.arn}]}

    def start_live_tail(self, **request):
        self.requests.append(request)
        result = {"logGroupIdentifier": self.arn, "logStreamName": "s", "timestamp": 5, "message": "hello"}
        return {"responseStream": iter([{"sessionStart": {}}, {"sessionUpdate": {"sessionResults": [result]}}])}


def test_live_tail_streams_events_named_by_function():
    logs = LiveTailLogs("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/webhook-receiver-x")
    events = live_tail(logs, {"receiver": "/aws/lambda/webhook-receiver-x"}, webhook_pattern("stripe#evt_1"))
    first = next(events)
    assert (first.function, first.message) == ("receiver", "hello")
    assert logs.requests == [{"logGroupIdentifiers": [logs.arn],
                              "logEventFilterPattern": '{ $.webhookId = "stripe#evt_1" }'}]


@pytest.mark.slow
def test_logs_command_prints_the_function_log_group_events(pipeline):
    # GIVEN two processor log events, one matching ERROR
    group = pipeline.outputs["ProcessorLogGroupName"]
    pipeline.logs.create_log_stream(logGroupName=group, logStreamName="2026/01/01/[$LATEST]abc")
    now_ms = int(time.time() * 1000)
    pipeline.logs.put_log_events(logGroupName=group, logStreamName="2026/01/01/[$LATEST]abc", logEvents=[
        {"timestamp": now_ms - 5000, "message": "INFO processed evt_1"},
        {"timestamp": now_ms - 4000, "message": "ERROR failed evt_2"}])
    # WHEN
    everything = pipeline.invoke("logs", "--suffix", SUFFIX, "--function", "processor", "--since", "1m")
    errors = pipeline.invoke("logs", "--suffix", SUFFIX, "-f", "processor", "--filter", "ERROR")
    # THEN
    assert everything.exit_code == 0, everything.output
    assert [line.split(" ", 3)[1:] for line in everything.stdout.splitlines()] == [
        ["processor", "2026/01/01/[$LATEST]abc", "INFO processed evt_1"],
        ["processor", "2026/01/01/[$LATEST]abc", "ERROR failed evt_2"]]
    assert [line.split(" ", 3)[3] for line in errors.stdout.splitlines()] == ["ERROR failed evt_2"]


@pytest.mark.slow
def test_logs_bad_since_is_a_usage_error_before_any_call(pipeline):
    result = pipeline.invoke("logs", "--suffix", SUFFIX, "--function", "audit", "--since", "soon")
    assert result.exit_code == 2
    assert "--since 'soon' is neither a duration" in result.stderr


@pytest.mark.slow
def test_logs_follow_polls_until_ctrl_c_and_exits_cleanly(pipeline):
    # GIVEN one receiver event, and Ctrl-C during the first wait between polls
    group = pipeline.outputs["ReceiverLogGroupName"]
    pipeline.logs.create_log_stream(logGroupName=group, logStreamName="s1")
    pipeline.logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": int(time.time() * 1000) - 1000, "message": "INFO accepted"}])
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        raise KeyboardInterrupt

    # WHEN
    result = pipeline.invoke("logs", "--suffix", SUFFIX, "--function", "receiver", "--follow",
                             clock=Clock(sleep=sleep))
    # THEN the event was printed once, the emulator's lack of live tail was noted, one wait happened, and the
    # exit is clean
    assert result.exit_code == 0, result.output
    assert [line.split(" ", 3)[2:] for line in result.stdout.splitlines()] == [["s1", "INFO accepted"]]
    assert "live tail unavailable" in result.stderr and waits == [2.0]


@pytest.mark.slow
def test_logs_of_one_webhook_across_the_functions_in_time_order(pipeline):
    # GIVEN lines of two webhooks in the receiver's and the processor's groups (as the handlers log them)
    now_ms = int(time.time() * 1000)
    lines = {"receiver": [(now_ms - 3000, {"message": "accepted", "webhookId": "stripe#evt_1"}),
                          (now_ms - 2500, {"message": "accepted", "webhookId": "stripe#evt_2"})],
             "processor": [(now_ms - 2000, {"message": "record done", "webhookId": "stripe#evt_1"})]}
    for function, entries in lines.items():
        group = pipeline.outputs[f"{function.capitalize()}LogGroupName"]
        pipeline.logs.create_log_stream(logGroupName=group, logStreamName="s")
        pipeline.logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
            {"timestamp": ms, "message": json.dumps(line)} for ms, line in entries])
    # WHEN asked for one webhook, as JSON
    result = pipeline.invoke("logs", "--suffix", SUFFIX, "--webhook", "stripe#evt_1", "--format", "json")
    # THEN its lines from both functions, oldest first
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(f["function"], json.loads(f["message"])["message"]) for f in found] == [
        ("receiver", "accepted"), ("processor", "record done")]
