"""Account-level prerequisites CloudFormation would otherwise discover halfway through a deploy."""

from __future__ import annotations

from typing import Any

APIGATEWAY_ROLE_FIX = (
    "API Gateway in this region has no CloudWatch Logs role, so the stage's access logging will fail "
    "(\"CloudWatch Logs role ARN must be set in account settings\"). Set it once per account and region: "
    "create a role trusted by apigateway.amazonaws.com with the managed policy "
    "AmazonAPIGatewayPushToCloudWatchLogs, then run `aws apigateway update-account --patch-operations "
    "op=replace,path=/cloudwatchRoleArn,value=<role arn>`."
)


def apigateway_logging_problem(apigateway: Any) -> str | None:
    """Why the stage's access logs cannot be written, or None when the account is ready."""
    account = apigateway.get_account()
    return None if account.get("cloudwatchRoleArn") else APIGATEWAY_ROLE_FIX


# Lambda keeps this many executions unreserved (all of them in an account whose quota is smaller).
MIN_UNRESERVED = 100


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
