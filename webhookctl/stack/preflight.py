"""Account-level prerequisites CloudFormation would otherwise discover halfway through a deploy.

Each check reads only. A check that cannot run (no permission, or an emulator without that API) becomes a
one-line note, never a failure of an otherwise good deploy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from webhookctl.handlers.webhook_common.contract import stack as contract
from webhookctl.stack.outputs import outputs_of

APIGATEWAY_ROLE_FIX = (
    "API Gateway in this region has no CloudWatch Logs role, so the stage's access logging will fail "
    "(\"CloudWatch Logs role ARN must be set in account settings\"). Set it once per account and region: "
    "run `webhookctl bootstrap --region {region}` (it also prepares the artifact bucket), or by hand: a role "
    "trusted by apigateway.amazonaws.com with AmazonAPIGatewayPushToCloudWatchLogs, then `aws apigateway "
    "update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=<role arn>`."
)
# Statuses whose template describes nothing running: no settings of theirs can revert.
NOTHING_DEPLOYED = ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
# Lambda keeps this many executions unreserved (all of them in an account whose quota is smaller).
MIN_UNRESERVED = 100


def preflight(clients: Any, settings: Any, stack: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """(problems that refuse the deploy, notes on checks that could not run)."""
    wanted = settings.receiver_reserved_concurrency + settings.processor_reserved_concurrency
    checks: dict[str, Callable[[], str | None]] = {
        "API Gateway's account settings": lambda: apigateway_logging_problem(clients.apigateway),
        "Lambda's concurrency quota": lambda: concurrency_problem(
            clients.client("lambda"), wanted, reserved_by_stack(clients.client("lambda"), stack)),
    }
    from botocore.exceptions import BotoCoreError, ClientError

    problems, notes = [], []
    for what, check in checks.items():
        try:
            problem = check()
        except (ClientError, BotoCoreError) as exc:  # no permission, or an endpoint without the API
            notes.append(f"note: skipped the check of {what}: {unanswered(exc)}")
            continue
        if problem:
            problems.append(problem)
    return problems, notes


def unanswered(exc: BaseException) -> str:
    """Why a read-only check got no usable answer, in one line (never an emulator's HTML body)."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.get("Code") or status
        if str(code) in ("404", "501") or str(error.get("Message", "")).lstrip().startswith("<"):
            return f"{exc.operation_name} is not available at this endpoint (HTTP {status})"
        return f"{exc.operation_name} answered {code}"
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{type(exc).__name__}: {first[:160]}"


def apigateway_logging_problem(apigateway: Any) -> str | None:
    """Why the stage's access logs cannot be written, or None when the account is ready."""
    account = apigateway.get_account()
    return None if account.get("cloudwatchRoleArn") else apigateway_role_fix(apigateway.meta.region_name)


def apigateway_role_fix(region: str) -> str:
    """The missing-role problem, naming the region so the fix can be pasted as it is."""
    return APIGATEWAY_ROLE_FIX.format(region=region)


def reserved_by_stack(lambda_client: Any, stack: dict[str, Any] | None) -> int:
    """What this stack's functions already reserve (an update only needs more than that)."""
    outputs = outputs_of(stack)
    return sum(_reserved(lambda_client, outputs[o.key])
               for o in (contract.RECEIVER_FUNCTION, contract.PROCESSOR_FUNCTION) if o.key in outputs)


def _reserved(lambda_client: Any, function: str) -> int:
    from botocore.exceptions import ClientError

    try:
        answer = lambda_client.get_function_concurrency(FunctionName=function)
    except ClientError as exc:  # a stack that rolled back has no functions left
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return 0
        raise
    return int(answer.get("ReservedConcurrentExecutions") or 0)


def concurrency_problem(lambda_client: Any, wanted: int, reserved_now: int) -> str | None:
    """Why the functions' reserved concurrency cannot be granted, or None.

    `wanted` is what the stack will reserve, `reserved_now` what its functions already hold (an update
    only needs the difference)."""
    limit = lambda_client.get_account_settings()["AccountLimit"]
    quota, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
    floor = min(MIN_UNRESERVED, quota)
    if unreserved - (wanted - reserved_now) >= floor:
        return None
    return (f"the functions would reserve {wanted} concurrent executions, but this account's Lambda quota is "
            f"{quota} with {unreserved} unreserved, and Lambda keeps at least {floor} unreserved: raise the "
            "quota (Service Quotas > AWS Lambda > Concurrent executions), or lower receiver_reserved_concurrency "
            "and processor_reserved_concurrency with --set")


def recorded_settings_of(cfn: Any, stack: dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """(settings the deployed template records, a note when they could not be read); read only."""
    from botocore.exceptions import BotoCoreError, ClientError

    from webhookctl.templates.metadata import recorded_settings

    if stack is None or stack["StackStatus"] in NOTHING_DEPLOYED:
        return {}, None
    try:
        body = cfn.get_template(StackName=stack["StackId"], TemplateStage="Original")["TemplateBody"]
    except (ClientError, BotoCoreError) as exc:
        return {}, f"note: skipped the check for reverted settings: {unanswered(exc)}"
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:  # a YAML template: not one webhookctl deployed
            return {}, None
    return recorded_settings(body if isinstance(body, dict) else None), None
