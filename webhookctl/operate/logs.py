"""A function's CloudWatch Logs: one window, or followed by polling, each event printed once."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from webhookctl.edge.errors import UsageError, WebhookctlError

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float, option: str = "--since") -> int:
    """--since as epoch milliseconds: 30s / 10m / 2h / 1d ago, or an ISO 8601 time (UTC unless it says)."""
    match = _RELATIVE.match(text)
    if match:
        return int((now - int(match[1]) * _UNIT_SECONDS[match[2]]) * 1000)
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is neither a duration (30s, 10m, 2h, 1d) nor an ISO time "
                         "(2026-01-31T08:00:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


@dataclass(frozen=True)
class LogEvent:
    event_id: str
    timestamp_ms: int
    stream: str
    message: str
    function: str = ""

    def line(self) -> str:
        when = datetime.fromtimestamp(self.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
        who = f" {self.function}" if self.function else ""
        return f"{when.replace('+00:00', 'Z')}{who} {self.stream} {self.message.rstrip()}"

    def as_json(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp_ms, "function": self.function or None, "stream": self.stream,
                "message": self.message.rstrip()}


class LogGroupMissing(WebhookctlError):
    """The function's log group does not exist (yet)."""


def webhook_pattern(webhook_id: str) -> str:
    """A JSON filter pattern for every line about one webhook (the handlers' logger names it on each)."""
    quoted = webhook_id.replace('"', "")
    return f'{{ $.webhookId = "{quoted}" }}'


def fetch(logs: Any, group: str, start_ms: int, pattern: str | None, function: str = "") -> Iterator[LogEvent]:
    """Every event since start_ms, all pages."""
    from botocore.exceptions import ClientError

    request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    if pattern:
        request["filterPattern"] = pattern
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**request):
            for event in page.get("events", []):
                yield LogEvent(event["eventId"], event["timestamp"], event.get("logStreamName", "-"),
                               event.get("message", ""), function)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise LogGroupMissing(f"log group {group} does not exist: the stack creates it; "
                                  "redeploy with `webhookctl deploy` if it was deleted") from exc
        raise


def fetch_all(logs: Any, groups: dict[str, str], start_ms: int, pattern: str | None) -> list[LogEvent]:
    """Several functions' events, merged in time order (one webhook across the pipeline)."""
    events = [e for function, group in groups.items() for e in fetch(logs, group, start_ms, pattern, function)]
    return sorted(events, key=lambda e: (e.timestamp_ms, e.event_id))


def follow(logs: Any, groups: dict[str, str], start_ms: int, pattern: str | None, *,
           sleep: Callable[[float], None], note: Callable[[str], None] = lambda line: None,
           poll_seconds: float = 2.0, polls: int | None = None, lag_ms: int = 30_000) -> Iterator[LogEvent]:
    """Live: CloudWatch Logs' StartLiveTail where the caller and endpoint have it, else polling."""
    yield from fetch_all(logs, groups, start_ms, pattern)
    try:
        yield from live_tail(logs, groups, pattern)
        return
    except LiveTailUnavailable as exc:
        note(f"note: live tail unavailable ({exc}); polling every {poll_seconds:g} s instead")
    yield from poll(logs, groups, int(time.time() * 1000), pattern, sleep=sleep, poll_seconds=poll_seconds,
                    polls=polls, lag_ms=lag_ms)


class LiveTailUnavailable(Exception):
    """StartLiveTail is not offered here (an emulator), or the caller may not use it."""


def live_tail(logs: Any, groups: dict[str, str], pattern: str | None) -> Iterator[LogEvent]:
    """Events as CloudWatch Logs streams them; a session lasts at most three hours, so it is renewed."""
    from botocore.exceptions import BotoCoreError, ClientError

    arns = {_group_arn(logs, group): function for function, group in groups.items()}
    request: dict[str, Any] = {"logGroupIdentifiers": list(arns)}
    if pattern:
        request["logEventFilterPattern"] = pattern
    while True:
        try:
            stream = logs.start_live_tail(**request)["responseStream"]
        except (ClientError, BotoCoreError, NotImplementedError) as exc:
            raise LiveTailUnavailable(_short(exc)) from exc
        for part in stream:
            for result in part.get("sessionUpdate", {}).get("sessionResults", []):
                yield LogEvent(f"{result.get('logStreamName')}:{result.get('timestamp')}", result["timestamp"],
                               result.get("logStreamName", "-"), result.get("message", ""),
                               arns.get(result.get("logGroupIdentifier", ""), ""))


def _group_arn(logs: Any, group: str) -> str:
    for found in logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", []):
        if found.get("logGroupName") == group:
            return found.get("logGroupArn") or found["arn"].removesuffix(":*")
    raise LogGroupMissing(f"log group {group} does not exist: redeploy with `webhookctl deploy`")


def _short(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return f"StartLiveTail answered {response.get('Error', {}).get('Code') or 'an error'}"
    return type(exc).__name__


def poll(logs: Any, groups: dict[str, str], start_ms: int, pattern: str | None, *,
         sleep: Callable[[float], None], poll_seconds: float = 2.0, polls: int | None = None,
         lag_ms: int = 30_000) -> Iterator[LogEvent]:
    """Polls forever (or `polls` times), each event once.

    CloudWatch Logs ingests late (events can show up after newer ones), so every poll looks back lag_ms
    before the newest event seen and drops the event ids it already printed.
    """
    printed: dict[str, int] = {}
    newest = start_ms
    done = 0
    while polls is None or done < polls:
        window_start = max(start_ms, newest - lag_ms)
        for event in fetch_all(logs, groups, window_start, pattern):
            if event.event_id not in printed:
                printed[event.event_id] = event.timestamp_ms
                newest = max(newest, event.timestamp_ms)
                yield event
        printed = {i: t for i, t in printed.items() if t >= window_start}  # bounded memory
        done += 1
        if polls is None or done < polls:
            sleep(poll_seconds)
