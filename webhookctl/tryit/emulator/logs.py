"""CloudWatch Logs: JSON filter patterns (`{ $.webhookId = "..." }`), which `logs --webhook` relies on."""

from __future__ import annotations

import json
import re
from typing import Any

from webhookctl.tryit.emulator.probe import Probe

# One or more `$.path = value` terms joined by &&, as CloudWatch Logs' JSON filter syntax writes them.
_JSON_PATTERN = re.compile(r"^\{\s*(.+?)\s*\}$")
_TERM = re.compile(r'^\$\.([\w.]+)\s*=\s*(?:"([^"]*)"|(\S+))$')


def json_terms(pattern: str) -> list[tuple[list[str], str]] | None:
    """[(path, value)] of a JSON filter pattern of equality terms, or None if PATTERN is not one."""
    whole = _JSON_PATTERN.match(pattern.strip())
    if not whole:
        return None
    terms = []
    for part in whole.group(1).split("&&"):
        term = _TERM.match(part.strip())
        if not term:
            return None
        terms.append((term.group(1).split("."), term.group(2) if term.group(2) is not None else term.group(3)))
    return terms


def json_matches(terms: list[tuple[list[str], str]], message: str) -> bool:
    """Whether MESSAGE is a JSON object whose value at each path equals the term's value (as text)."""
    try:
        value: Any = json.loads(message)
    except ValueError:
        return False
    for path, expected in terms:
        found: Any = value
        for name in path:
            found = found.get(name) if isinstance(found, dict) else None
        if found is None or (json.dumps(found) if not isinstance(found, str) else found) != expected:
            return False
    return True


def patch_json_filter_patterns() -> None:
    """moto treats a pattern starting with `{` as unsupported and matches every event; AWS matches JSON fields."""
    import moto.logs.models as models

    plain = models.EventMessageFilter

    class EventMessageFilter(plain):  # type: ignore[misc, valid-type]
        def __init__(self, pattern: str) -> None:
            super().__init__(pattern)
            self.json_terms = json_terms(pattern or "")

        def matches(self, message: str) -> bool:
            if self.json_terms is not None:
                return json_matches(self.json_terms, message)
            return super().matches(message)

    models.EventMessageFilter = EventMessageFilter


def json_filter_matches_everything(aws: Probe) -> bool:
    """FilterLogEvents with `{ $.id = "a" }` returns an event whose id is "b"."""
    import time

    logs = aws.client("logs")
    logs.create_log_group(logGroupName="probe")
    logs.create_log_stream(logGroupName="probe", logStreamName="s")
    logs.put_log_events(logGroupName="probe", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": '{"id": "b"}'}])
    # (the event is "now": like AWS, moto drops events more than 14 days old)
    assert logs.filter_log_events(logGroupName="probe")["events"], "the probe's event was not stored"
    return bool(logs.filter_log_events(logGroupName="probe", filterPattern='{ $.id = "a" }')["events"])
