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

    def line(self) -> str:
        when = datetime.fromtimestamp(self.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
        return f"{when.replace('+00:00', 'Z')} {self.stream} {self.message.rstrip()}"


class LogGroupMissing(WebhookctlError):
    """The function's log group does not exist (yet)."""


def fetch(logs: Any, group: str, start_ms: int, pattern: str | None) -> Iterator[LogEvent]:
    """Every event since start_ms, following nextToken to the end."""
    from botocore.exceptions import ClientError

    request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    if pattern:
        request["filterPattern"] = pattern
    while True:
        try:
            page = logs.filter_log_events(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise LogGroupMissing(f"log group {group} does not exist: the stack creates it; "
                                      "redeploy with `webhookctl deploy` if it was deleted") from exc
            raise
        for event in page.get("events", []):
            yield LogEvent(event["eventId"], event["timestamp"], event.get("logStreamName", "-"),
                           event.get("message", ""))
        token = page.get("nextToken")
        if not token or token == request.get("nextToken"):
            return
        request["nextToken"] = token


def follow(logs: Any, group: str, start_ms: int, pattern: str | None, *, sleep: Callable[[float], None],
           poll_seconds: float = 2.0, polls: int | None = None, lag_ms: int = 30_000) -> Iterator[LogEvent]:
    """Polls forever (or `polls` times), each event once.

    CloudWatch Logs ingests late (events can show up after newer ones), so every poll looks back lag_ms
    before the newest event seen and drops the event ids it already printed.
    """
    printed: dict[str, int] = {}
    newest = start_ms
    done = 0
    while polls is None or done < polls:
        window_start = max(start_ms, newest - lag_ms)
        for event in fetch(logs, group, window_start, pattern):
            if event.event_id not in printed:
                printed[event.event_id] = event.timestamp_ms
                newest = max(newest, event.timestamp_ms)
                yield event
        printed = {i: t for i, t in printed.items() if t >= window_start}  # bounded memory
        done += 1
        if polls is None or done < polls:
            sleep(poll_seconds)


def now() -> float:
    return time.time()
