"""CloudWatch Logs: JSON filter patterns (`{ $.webhookId = "..." }`), which `logs --webhook` relies on, and the
embedded metric format (a log line that is a metric), which the handlers' metrics and `webhookctl stats` rely on."""

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


def emf_metric_data(message: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """[(namespace, PutMetricData's MetricData)] of one EMF log line, empty for any other line.

    As CloudWatch Logs reads it: one datum per metric per dimension set, the values (a number or an array)
    from the line's member of the metric's name, the dimensions' values from theirs, at _aws.Timestamp."""
    if not message.startswith("{") or '"_aws"' not in message:  # the cheap test first: most lines are not EMF
        return []
    try:
        line = json.loads(message)
        from datetime import UTC, datetime

        # moto keeps metric times as naive UTC datetimes
        when = datetime.fromtimestamp(line["_aws"]["Timestamp"] / 1000, UTC).replace(tzinfo=None)
        directives = line["_aws"]["CloudWatchMetrics"]
    except (ValueError, TypeError, KeyError, OverflowError):
        return []
    found = []
    for directive in directives:
        data = []
        for metric in directive.get("Metrics", []):
            value = line.get(metric.get("Name"))
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                continue  # AWS skips a metric whose member is missing or not numeric
            for names in directive.get("Dimensions", []):
                dimensions = [{"Name": n, "Value": str(line[n])} for n in names if n in line]
                data.append({"MetricName": metric["Name"], "Dimensions": dimensions, "Timestamp": when,
                             "Unit": metric.get("Unit", "None"), "Values": [float(v) for v in values]})
        if data:
            found.append((directive["Namespace"], data))
    return found


def patch_embedded_metrics() -> None:
    """moto stores an EMF line as text only; CloudWatch Logs also turns it into CloudWatch metrics."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.logs.models import LogsBackend

    plain = LogsBackend.put_log_events

    def put_log_events(self: Any, log_group_name: str, log_stream_name: str,
                       log_events: list[dict[str, Any]]) -> Any:
        answer = plain(self, log_group_name, log_stream_name, log_events)
        cloudwatch = cloudwatch_backends[self.account_id][self.region_name]
        for event in log_events:
            for namespace, data in emf_metric_data(event.get("message", "")):
                cloudwatch.put_metric_data(namespace, data)
        return answer

    LogsBackend.put_log_events = put_log_events


def emf_lines_make_no_metrics(aws: Probe) -> bool:
    """PutLogEvents of an EMF line leaves ListMetrics without its metric."""
    import time

    logs = aws.client("logs")
    logs.create_log_group(logGroupName="probe")
    logs.create_log_stream(logGroupName="probe", logStreamName="s")
    now = int(time.time() * 1000)
    line = {"_aws": {"Timestamp": now, "CloudWatchMetrics": [{"Namespace": "Probe", "Dimensions": [["Stack"]],
                                                               "Metrics": [{"Name": "Accepted", "Unit": "Count"}]}]},
            "Stack": "probe", "Accepted": 1}
    logs.put_log_events(logGroupName="probe", logStreamName="s",
                        logEvents=[{"timestamp": now, "message": json.dumps(line)}])
    return not aws.client("cloudwatch").list_metrics(Namespace="Probe")["Metrics"]
