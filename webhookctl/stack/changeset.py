"""Change sets: create one, wait for it, read its changes, and tell "nothing to do" from a failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhookctl.edge.errors import StackError
from webhookctl.edge.output import table
from webhookctl.stack.stack_events import Timing

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
# What CloudFormation says for a change set without changes (as SAM, Stacker and Runway match them).
EMPTY_REASONS = ("didn't contain changes", "No updates are to be performed")
ACTION_SYMBOLS = {"Add": "+ Add", "Modify": "* Modify", "Remove": "- Remove", "Import": "> Import",
                  "Dynamic": "? Dynamic"}


@dataclass(frozen=True)
class TemplateSource:
    """The template as a body, or as an S3 URL once it is over CreateChangeSet's body limit."""

    body: str | None = None
    url: str | None = None

    def as_kwargs(self) -> dict[str, str]:
        return {"TemplateURL": self.url} if self.url else {"TemplateBody": self.body or ""}


@dataclass(frozen=True)
class ChangeSetRequest:
    stack_name: str
    name: str
    change_set_type: str  # CREATE | UPDATE, always explicit (moto and AWS disagree on the default)
    template: TemplateSource
    parameters: dict[str, str]
    tags: dict[str, str]


@dataclass(frozen=True)
class ChangeSet:
    id: str | None
    stack_id: str | None
    name: str
    change_set_type: str
    changes: tuple[dict[str, Any], ...]
    empty: bool = False


def create_change_set(cloudformation: Any, request: ChangeSetRequest, timing: Timing) -> ChangeSet:
    """A ready change set, or one marked empty (already deleted) when there is nothing to change."""
    from botocore.exceptions import ClientError

    try:
        created = cloudformation.create_change_set(
            StackName=request.stack_name, ChangeSetName=request.name, ChangeSetType=request.change_set_type,
            Parameters=[{"ParameterKey": k, "ParameterValue": v}
                        for k, v in sorted(request.parameters.items())],
            Tags=[{"Key": k, "Value": v} for k, v in sorted(request.tags.items())],
            Capabilities=CAPABILITIES, **request.template.as_kwargs())
    except ClientError as exc:
        # Some CloudFormation implementations refuse an identical update outright instead of
        # returning a FAILED change set; both mean the same thing.
        if _is_empty_reason(exc.response.get("Error", {}).get("Message", "")):
            return ChangeSet(None, None, request.name, request.change_set_type, (), empty=True)
        raise
    description = _wait_until_created(cloudformation, created["Id"], timing)
    changes = tuple(_all_changes(cloudformation, created["Id"], description))
    if description["Status"] == "FAILED":
        reason = description.get("StatusReason", "")
        if _is_empty_reason(reason):
            cloudformation.delete_change_set(ChangeSetName=created["Id"])
            return ChangeSet(created["Id"], created["StackId"], request.name, request.change_set_type, (),
                             empty=True)
        raise StackError(f"CloudFormation rejected change set {request.name} for {request.stack_name}: "
                         f"{reason or 'no reason given'}")
    return ChangeSet(created["Id"], created["StackId"], request.name, request.change_set_type, changes)


def _wait_until_created(cloudformation: Any, change_set_id: str, timing: Timing) -> dict[str, Any]:
    deadline = timing.clock.monotonic() + timing.timeout_seconds
    while True:
        description = cloudformation.describe_change_set(ChangeSetName=change_set_id)
        if description["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            return description
        if timing.clock.monotonic() >= deadline:
            raise StackError(f"change set {change_set_id} still {description['Status']} after "
                             f"{timing.timeout_seconds:.0f} s")
        timing.clock.sleep(timing.change_set_poll_seconds)


def _all_changes(cloudformation: Any, change_set_id: str, first: dict[str, Any]) -> list[dict[str, Any]]:
    """The first page (already read while waiting) and every later one."""
    changes = [c.get("ResourceChange", {}) for c in first.get("Changes", [])]
    if first.get("NextToken"):
        pages = cloudformation.get_paginator("describe_change_set").paginate(
            ChangeSetName=change_set_id, PaginationConfig={"StartingToken": first["NextToken"]})
        changes += [c.get("ResourceChange", {}) for page in pages for c in page.get("Changes", [])]
    return changes


def _is_empty_reason(message: str) -> bool:
    return any(reason in message for reason in EMPTY_REASONS)


def changes_table(changes: tuple[dict[str, Any], ...]) -> str:
    """ACTION / LOGICAL ID / TYPE / REPLACEMENT, as `sam deploy` shows a change set."""
    rows = [(ACTION_SYMBOLS.get(c.get("Action", ""), c.get("Action", "")), c.get("LogicalResourceId", ""),
             c.get("ResourceType", ""), c.get("Replacement") or "") for c in changes]
    return table(("ACTION", "LOGICAL ID", "TYPE", "REPLACEMENT"), rows)


def changes_json(changes: tuple[dict[str, Any], ...]) -> list[dict[str, str]]:
    return [{"action": c.get("Action", ""), "logicalId": c.get("LogicalResourceId", ""),
             "type": c.get("ResourceType", ""), "replacement": c.get("Replacement") or ""} for c in changes]
