"""A deployed stack's outputs: how every command finds the resources it operates on."""

from __future__ import annotations

from typing import Any

from webhookctl.errors import StackError


class StackNotFound(StackError):
    """The stack does not exist (or only as a never-executed REVIEW_IN_PROGRESS shell)."""


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """OutputKey -> OutputValue of a deployed stack, or a clear error saying how to deploy it."""
    stack = describe_stack(cloudformation, stack_name)
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        raise StackNotFound(f"stack {stack_name} not found: deploy it with "
                            f"`webhookctl deploy --suffix {_suffix(stack_name)}`")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def require_output(outputs: dict[str, str], key: str, stack_name: str) -> str:
    """One output, or an error saying the stack predates it (redeploy to get it)."""
    try:
        return outputs[key]
    except KeyError:
        raise StackError(f"stack {stack_name} has no output {key}: it was deployed by an older "
                         f"webhookctl; run `webhookctl deploy --suffix {_suffix(stack_name)}`") from None


def describe_stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack's description, or None when CloudFormation says it does not exist."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        # CloudFormation answers a missing stack with a generic ValidationError "... does not exist".
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            return None
        raise
    return stacks[0] if stacks else None


def _suffix(stack_name: str) -> str:
    return stack_name.removeprefix("payment-webhooks-")
