"""logs: --since parsing, paginated fetch from the function's log group, --follow printing each event once."""

from __future__ import annotations

import time

import pytest

from tests.ops.conftest import SUFFIX
from webhookctl.edge.clock import Clock
from webhookctl.edge.errors import UsageError
from webhookctl.operate.logs import fetch, follow, parse_since

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


class PagedLogs:
    """filter_log_events answering from a script of pages per call; records every request."""

    def __init__(self, polls):
        self.polls, self.requests = list(polls), []

    def filter_log_events(self, **request):
        self.requests.append(request)
        pages = self.polls[0]
        page = pages.pop(0)
        if not pages:
            self.polls.pop(0)
        return page


def event(event_id, ms, message="m"):
    return {"eventId": event_id, "timestamp": ms, "logStreamName": "s", "message": message}


def test_fetch_follows_next_tokens():
    logs = PagedLogs([[{"events": [event("a", 1)], "nextToken": "t1"}, {"events": [event("b", 2)]}]])
    assert [e.event_id for e in fetch(logs, "g", 0, "ERROR")] == ["a", "b"]
    assert logs.requests == [{"logGroupName": "g", "startTime": 0, "filterPattern": "ERROR"},
                             {"logGroupName": "g", "startTime": 0, "filterPattern": "ERROR", "nextToken": "t1"}]


def test_follow_prints_each_event_once_across_polls_and_looks_back_for_late_ones():
    # GIVEN a first poll with a and b, then a poll returning b again plus a late-ingested c (older than b)
    logs = PagedLogs([[{"events": [event("a", 100_000), event("b", 200_000)]}],
                      [{"events": [event("b", 200_000), event("c", 190_000), event("d", 250_000)]}]])
    slept = []
    # WHEN following for two polls
    seen = [e.event_id for e in follow(logs, "g", 50_000, None, sleep=slept.append, poll_seconds=2, polls=2)]
    # THEN every event once, the second poll starting lag_ms before the newest seen
    assert seen == ["a", "b", "c", "d"]
    assert [r["startTime"] for r in logs.requests] == [50_000, 200_000 - 30_000]
    assert slept == [2]


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
    assert [line.split(" ", 2)[1:] for line in everything.stdout.splitlines()] == [
        ["2026/01/01/[$LATEST]abc", "INFO processed evt_1"], ["2026/01/01/[$LATEST]abc", "ERROR failed evt_2"]]
    assert [line.split(" ", 2)[2] for line in errors.stdout.splitlines()] == ["ERROR failed evt_2"]


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
    # THEN the event was printed once, one wait happened, and the exit is clean
    assert result.exit_code == 0, result.output
    assert [line.split(" ", 2)[1:] for line in result.stdout.splitlines()] == [["s1", "INFO accepted"]]
    assert waits == [2.0]
