"""A scripted CloudFormation client for what the emulator cannot show: per-resource failure events,
rollbacks, stacks already in progress, termination protection. Each test writes the story AWS would tell.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

REGION = "us-east-1"
T0 = datetime(2026, 1, 2, 3, 0, 0, tzinfo=UTC)
_ids = itertools.count(1)


def stack_id(name: str, n: int = 1) -> str:
    return f"arn:aws:cloudformation:{REGION}:123456789012:stack/{name}/id-{n}"


def event(stack: str, logical: str, status: str, reason: str | None = None,
          resource_type: str = "AWS::CloudFormation::Stack", second: int = 0, n: int = 1) -> dict[str, Any]:
    """One StackEvent as DescribeStackEvents returns it."""
    item = {"EventId": f"ev-{next(_ids)}", "StackId": stack_id(stack, n), "StackName": stack,
            "LogicalResourceId": logical, "ResourceType": resource_type, "ResourceStatus": status,
            "Timestamp": T0 + timedelta(seconds=second)}
    if reason:
        item["ResourceStatusReason"] = reason
    return item


def stack(name: str, status: str, n: int = 1, **extra: Any) -> dict[str, Any]:
    """One Stack as DescribeStacks returns it (tagged as webhookctl tags its stacks)."""
    return {"StackName": name, "StackId": stack_id(name, n), "StackStatus": status, "CreationTime": T0,
            "Tags": [{"Key": "webhookctl:suffix", "Value": name.removeprefix("payment-webhooks-")}], **extra}


def not_found(name: str) -> ClientError:
    return ClientError({"Error": {"Code": "ValidationError", "Message": f"Stack with id {name} does not exist"}},
                       "DescribeStacks")


@dataclass
class FakeCloudFormation:
    """describe_stacks answers from `stacks` (one description per call, the last one repeating; None =
    does not exist); every execute/delete appends its scripted `events` batch to what
    describe_stack_events returns, and `after` descriptions replace `stacks`."""

    stacks: list[dict[str, Any] | None]
    existing_events: list[dict[str, Any]] = field(default_factory=list)
    on_execute: list[tuple[list[dict[str, Any]], list[dict[str, Any] | None]]] = field(default_factory=list)
    on_delete: list[tuple[list[dict[str, Any]], list[dict[str, Any] | None]]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=lambda: [
        {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "ReceiverFunction",
                            "ResourceType": "AWS::Lambda::Function", "Replacement": "False"}}])
    empty_change_set: bool = False
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    meta: Any = field(default_factory=lambda: SimpleNamespace(region_name=REGION))

    def __post_init__(self) -> None:
        self.events = list(self.existing_events)  # oldest first; served newest first
        self.pending_events: list[list[dict[str, Any]]] = []

    def _call(self, name: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((name, kwargs))

    def call_names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def get_template(self, StackName: str, TemplateStage: str = "Original") -> dict[str, Any]:  # noqa: N803
        return {"TemplateBody": {}}  # no Metadata: nothing recorded, nothing reverts

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 (boto3's argument names)
        self._call("describe_stacks", {"StackName": StackName})
        current = self.stacks.pop(0) if len(self.stacks) > 1 else self.stacks[0]
        # each poll of a running operation reveals its next event; a finished one has shown them all
        running = current is not None and current["StackStatus"].endswith("_IN_PROGRESS")
        for batch in self.pending_events[:1] if running else self.pending_events:
            self.events.extend(batch)
        self.pending_events = self.pending_events[1:] if running else []
        if current is None:
            raise not_found(StackName)
        return {"Stacks": [current]}

    def describe_stack_events(self, StackName: str, NextToken: str | None = None) -> dict[str, Any]:  # noqa: N803
        self._call("describe_stack_events", {"StackName": StackName})
        return {"StackEvents": list(reversed(self.events))}

    def create_change_set(self, **kwargs: Any) -> dict[str, Any]:
        self._call("create_change_set", kwargs)
        n = 2 if kwargs["ChangeSetType"] == "CREATE" and self.on_delete else 1
        return {"Id": f"arn:cs/{kwargs['ChangeSetName']}", "StackId": stack_id(kwargs["StackName"], n)}

    def describe_change_set(self, ChangeSetName: str, NextToken: str | None = None) -> dict[str, Any]:  # noqa: N803
        self._call("describe_change_set", {"ChangeSetName": ChangeSetName})
        if self.empty_change_set:
            return {"Status": "FAILED", "StatusReason": "The submitted information didn't contain changes. "
                    "Submit different information to create a change set.", "Changes": []}
        return {"Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE", "Changes": self.changes}

    def delete_change_set(self, ChangeSetName: str) -> None:  # noqa: N803
        self._call("delete_change_set", {"ChangeSetName": ChangeSetName})

    def execute_change_set(self, ChangeSetName: str) -> None:  # noqa: N803
        self._call("execute_change_set", {"ChangeSetName": ChangeSetName})
        self._run(self.on_execute.pop(0))

    def delete_stack(self, StackName: str) -> None:  # noqa: N803
        self._call("delete_stack", {"StackName": StackName})
        self._run(self.on_delete.pop(0))

    def update_termination_protection(self, **kwargs: Any) -> None:
        self._call("update_termination_protection", kwargs)

    def _run(self, script: tuple[list[dict[str, Any]], list[dict[str, Any] | None]]) -> None:
        events, descriptions = script
        # the operation's events trickle in, one per poll, as the stack moves through `descriptions`
        self.pending_events = [[e] for e in events]
        self.stacks = list(descriptions)
