"""A deployed stack's outputs: how every command finds the resources it operates on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhookctl.edge.errors import StackError
from webhookctl.handlers.webhook_common.contract import names
from webhookctl.handlers.webhook_common.contract.stack import Output

# A stack CloudFormation made for a change set that was never executed: as good as absent.
REVIEW = "REVIEW_IN_PROGRESS"


class StackNotFound(StackError):
    """The stack does not exist (or only as a never-executed REVIEW_IN_PROGRESS shell)."""


@dataclass(frozen=True)
class DeployedStack:
    """A deployed stack's name and outputs; `require` names a missing output and what to do."""

    name: str
    outputs: dict[str, str]

    def get(self, output: Output) -> str | None:
        return self.outputs.get(output.key)

    def require(self, output: Output) -> str:
        value = self.outputs.get(output.key)
        if value is None:
            raise StackError(f"stack {self.name} has no output {output.key}: it was deployed by an older "
                             f"webhookctl; run `webhookctl deploy --suffix {names.suffix_of(self.name)}`")
        return value

    def with_role(self, role: str) -> dict[Output, str]:
        """Every output of ROLE this stack has (e.g. all its alarms), by contract output."""
        from webhookctl.handlers.webhook_common.contract.stack import with_role

        return {o: self.outputs[o.key] for o in with_role(role) if o.key in self.outputs}


def load_stack(cloudformation: Any, suffix: str) -> DeployedStack:
    """The stack of this suffix, found by its outputs (never by rebuilding resource names)."""
    name = names.stack_name(suffix)
    return DeployedStack(name, outputs_of(deployed_description(cloudformation, name)))


REVIEW_REASON = "a change set was created for it but never executed, so nothing is deployed yet"


def deployed_description(cloudformation: Any, name: str) -> dict[str, Any]:
    """DescribeStacks' entry for a deployed stack, or a clear error saying how to deploy it."""
    stack = existing_description(cloudformation, name)
    if stack["StackStatus"] == REVIEW:
        raise StackNotFound(f"stack {name} is {REVIEW}: {REVIEW_REASON}; deploy it with "
                            f"`webhookctl deploy --suffix {names.suffix_of(name)}`")
    return stack


def existing_description(cloudformation: Any, name: str) -> dict[str, Any]:
    """DescribeStacks' entry for a stack in any state, or an error saying how to deploy it."""
    stack = describe_stack(cloudformation, name)
    if stack is None:
        raise StackNotFound(f"stack {name} not found: deploy it with "
                            f"`webhookctl deploy --suffix {names.suffix_of(name)}`")
    return stack


def outputs_of(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def parameter_of(stack: dict[str, Any] | None, key: str) -> str | None:
    for parameter in (stack or {}).get("Parameters", []):
        if parameter["ParameterKey"] == key:
            return parameter.get("ParameterValue")
    return None


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
