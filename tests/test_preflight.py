"""Account prerequisites are found before CloudFormation fails on them halfway through."""

from __future__ import annotations

import boto3
from moto import mock_aws

from webhookctl.preflight import APIGATEWAY_ROLE_FIX, apigateway_logging_problem


def test_missing_apigateway_logging_role_is_reported_with_the_fix():
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="eu-west-1")
        assert apigateway_logging_problem(apigateway) == APIGATEWAY_ROLE_FIX
        assert "aws apigateway update-account" in APIGATEWAY_ROLE_FIX


def test_account_with_a_logging_role_is_ready():
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="eu-west-1")
        apigateway.update_account(patchOperations=[{
            "op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::123456789012:role/apigw-logs"}])
        assert apigateway_logging_problem(apigateway) is None
