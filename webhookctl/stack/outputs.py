"""A deployed stack's outputs: how every command finds the resources it operates on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhookctl.edge.errors import StackError
from webhookctl.templates.settings import STACK_PREFIX, stack_name


class StackNotFound(StackError):
    """The stack does not exist (or only as a never-executed REVIEW_IN_PROGRESS shell)."""


@dataclass(frozen=True)
class DeployedStack:
    """A deployed stack's name and outputs; `require` names a missing output and what to do."""

    name: str
    outputs: dict[str, str]

    def require(self, key: str) -> str:
        return require_output(self.outputs, key, self.name)


def load_stack(cloudformation: Any, suffix: str) -> DeployedStack:
    """The stack of this suffix, found by its outputs (never by rebuilding resource names)."""
    name = stack_name(suffix)
    return DeployedStack(name, stack_outputs(cloudformation, name))


def deployed_description(cloudformation: Any, name: str) -> dict[str, Any]:
    """DescribeStacks' entry for a deployed stack, or a clear error saying how to deploy it."""
    stack = describe_stack(cloudformation, name)
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        raise StackNotFound(f"stack {name} not found: deploy it with "
                            f"`webhookctl deploy --suffix {_suffix(name)}`")
    return stack


def outputs_of(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def stack_outputs(cloudformation: Any, name: str) -> dict[str, str]:
    """OutputKey -> OutputValue of a deployed stack, or a clear error saying how to deploy it."""
    return outputs_of(deployed_description(cloudformation, name))


def require_output(outputs: dict[str, str], key: str, name: str) -> str:
    """One output, or an error saying the stack predates it (redeploy to get it)."""
    try:
        return outputs[key]
    except KeyError:
        raise StackError(f"stack {name} has no output {key}: it was deployed by an older "
                         f"webhookctl; run `webhookctl deploy --suffix {_suffix(name)}`") from None


def describe_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    """The stack's description, or None when CloudFormation says it does not exist."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        # CloudFormation answers a missing stack with a generic ValidationError "... does not exist".
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            return None
        raise
    return stacks[0] if stacks else None


def _suffix(name: str) -> str:
    return name.removeprefix(STACK_PREFIX)
