"""Every alarm the stack names, metric and composite alike, with state, reason and since when."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webhookctl.edge.output import json_fields, table


@dataclass(frozen=True)
class AlarmState:
    output_key: str
    name: str
    kind: str  # metric | composite | missing
    state: str  # OK | ALARM | INSUFFICIENT_DATA | MISSING
    since: str | None
    reason: str | None


@dataclass(frozen=True)
class AlarmReport:
    alarms: tuple[AlarmState, ...]

    @property
    def exit_code(self) -> int:
        """1 if any alarm is in ALARM or missing from CloudWatch; INSUFFICIENT_DATA passes."""
        return 1 if any(a.state in ("ALARM", "MISSING") for a in self.alarms) else 0

    def as_json(self) -> str:
        return json.dumps({"ok": self.exit_code == 0, "alarms": [json_fields(a) for a in self.alarms]}, indent=2,
                          sort_keys=True)

    def as_text(self) -> str:
        rows = [(a.name, a.state, a.since or "-", a.reason or "-") for a in self.alarms]
        return table(("ALARM", "STATE", "SINCE", "REASON"), rows)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for alarm in self.alarms:
            counts[alarm.state] = counts.get(alarm.state, 0) + 1
        return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no alarms"


def stack_alarm_report(cloudwatch: Any, stack: Any) -> AlarmReport:
    """Every alarm the stack's outputs name (the contract's ALARM role)."""
    from webhookctl.edge.errors import StackError
    from webhookctl.handlers.webhook_common.contract.names import suffix_of
    from webhookctl.handlers.webhook_common.contract.stack import ALARM

    names = {o.key: name for o, name in sorted(stack.with_role(ALARM).items(), key=lambda item: item[0].key)}
    if not names:
        raise StackError(f"stack {stack.name} has no alarm outputs: redeploy it with "
                         f"`webhookctl deploy --suffix {suffix_of(stack.name)}`")
    return alarm_report(cloudwatch, names)


def alarm_report(cloudwatch: Any, names_by_key: Mapping[str, str]) -> AlarmReport:
    found = _describe(cloudwatch, list(names_by_key.values()))
    states = [found.get(name) or AlarmState(key, name, "missing", "MISSING", None,
                                            "named in the stack outputs but not in CloudWatch")
              for key, name in names_by_key.items()]
    return AlarmReport(tuple(_with_key(state, key) for state, key in zip(states, names_by_key, strict=True)))


def _with_key(state: AlarmState, key: str) -> AlarmState:
    return AlarmState(key, state.name, state.kind, state.state, state.since, state.reason)


def _describe(cloudwatch: Any, names: list[str]) -> dict[str, AlarmState]:
    """describe_alarms without AlarmTypes returns metric alarms only, so both types are asked for."""
    found: dict[str, AlarmState] = {}
    for start in range(0, len(names), 100):  # AlarmNames takes at most 100
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=names[start:start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        for page in pages:
            found.update(_states(page.get("MetricAlarms", []), "metric"))
            found.update(_states(page.get("CompositeAlarms", []), "composite"))
    return found


def _states(alarms: Iterable[Mapping[str, Any]], kind: str) -> dict[str, AlarmState]:
    return {a["AlarmName"]: AlarmState("", a["AlarmName"], kind, a.get("StateValue", "?"), _since(a),
                                       a.get("StateReason")) for a in alarms}


def _since(alarm: Mapping[str, Any]) -> str | None:
    """When the state last changed (StateTransitionedTimestamp), else when it was last updated."""
    when = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
    if isinstance(when, datetime):
        return when.isoformat(timespec="seconds")
    return str(when) if when else None
