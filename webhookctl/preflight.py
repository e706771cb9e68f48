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
