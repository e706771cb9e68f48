"""Stack statuses and live stack events: what CloudFormation is doing, one line per event, oldest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webhookctl.edge.clock import SYSTEM_CLOCK, Clock
from webhookctl.edge.errors import StackError
from webhookctl.stack.outputs import REVIEW

DEPLOY_SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
STACK_TYPE = "AWS::CloudFormation::Stack"
# Reasons that are consequences of another resource's failure, never the cause worth a headline.
CONSEQUENCES = ("Resource creation cancelled", "Resource update cancelled",
                "The following resource(s) failed")


def is_in_progress(status: str) -> bool:
    return status.endswith("_IN_PROGRESS") and status != REVIEW


@dataclass(frozen=True)
class Timing:
    """How often and how long CloudFormation is polled, on a clock tests can replace."""

    clock: Clock = SYSTEM_CLOCK
    poll_seconds: float = 2.0
    change_set_poll_seconds: float = 1.0
    timeout_seconds: float = 3600.0


def format_event(event: dict[str, Any]) -> str:
    """`12:00:01  CREATE_FAILED  AWS::SQS::Queue  ProcessingQueue  reason`."""
    stamp = event.get("Timestamp")
    when = stamp.strftime("%H:%M:%S") if isinstance(stamp, datetime) else str(stamp or "")
    parts = [when, f"{event.get('ResourceStatus', ''):<30}", f"{event.get('ResourceType', ''):<34}",
             event.get("LogicalResourceId", "")]
    if event.get("ResourceStatusReason"):
        parts.append(event["ResourceStatusReason"])
    return "  ".join(parts).rstrip()


def first_failure(events: list[dict[str, Any]]) -> str | None:
    """The reason of the earliest failed resource: the cause, not the cascade it set off."""
    failed = [e for e in events
              if e.get("ResourceStatus", "").endswith("_FAILED") and e.get("ResourceStatusReason")]
    causes = [e for e in failed if not e["ResourceStatusReason"].startswith(CONSEQUENCES)]
    for group in (
        [e for e in causes if e.get("ResourceType") != STACK_TYPE], causes, failed,
    ):
        if group:
            event = group[0]
            return f"{event.get('LogicalResourceId', '?')} ({event.get('ResourceType', '?')}): " \
                   f"{event['ResourceStatusReason']}"
    return None


@dataclass
class EventStream:
    """New events of one stack (by stack ID, so events of a deleted stack stay readable), deduplicated."""

    cloudformation: Any
    stack_id: str
    seen: set[str] = field(default_factory=set)
    history: list[dict[str, Any]] = field(default_factory=list)

    def mark_existing(self) -> None:
        """Remember what happened before now: only later events are shown."""
        page = self.cloudformation.describe_stack_events(StackName=self.stack_id)
        self.seen.update(e["EventId"] for e in page.get("StackEvents", []))

    def poll(self) -> list[dict[str, Any]]:
        """Events not seen before, oldest first (the API pages newest first)."""
        fresh: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs = {"StackName": self.stack_id, **({"NextToken": token} if token else {})}
            page = self.cloudformation.describe_stack_events(**kwargs)
            for event in page.get("StackEvents", []):
                if event["EventId"] in self.seen:
                    return self._remember(fresh)
                fresh.append(event)
            token = page.get("NextToken")
            if not token:
                return self._remember(fresh)

    def _remember(self, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fresh.reverse()
        self.seen.update(e["EventId"] for e in fresh)
        self.history.extend(fresh)
        return fresh


def stack_status(cloudformation: Any, stack_id: str) -> dict[str, Any]:
    return cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]


def wait_for_stack(cloudformation: Any, stream: EventStream, echo: Callable[[str], None],
                   timing: Timing) -> dict[str, Any]:
    """Stream events until the stack leaves *_IN_PROGRESS; returns its final description."""
    deadline = timing.clock.monotonic() + timing.timeout_seconds
    while True:
        for event in stream.poll():
            echo(format_event(event))
        stack = stack_status(cloudformation, stream.stack_id)
        if not is_in_progress(stack["StackStatus"]):
            for event in stream.poll():  # the events that landed between the two calls
                echo(format_event(event))
            return stack
        if timing.clock.monotonic() >= deadline:
            raise StackError(f"gave up waiting after {timing.timeout_seconds:.0f} s: stack "
                             f"{stack['StackName']} is still {stack['StackStatus']}; CloudFormation "
                             "carries on: check again with `webhookctl status`")
        timing.clock.sleep(timing.poll_seconds)
