"""Account prerequisites are found before CloudFormation fails on them halfway through."""

from __future__ import annotations

import boto3
from moto import mock_aws

from webhookctl.preflight import APIGATEWAY_ROLE_FIX, apigateway_logging_problem


def test_missing_apigateway_logging_role_is_reported_with_the_fix():
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="eu-west-1")
        # (cleared explicitly: once the emulator's patches are in, moto's accounts come with the role)
        apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}])
        assert apigateway_logging_problem(apigateway) == APIGATEWAY_ROLE_FIX
        assert "aws apigateway update-account" in APIGATEWAY_ROLE_FIX


def test_account_with_a_logging_role_is_ready():
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="eu-west-1")
        apigateway.update_account(patchOperations=[{
            "op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::123456789012:role/apigw-logs"}])
        assert apigateway_logging_problem(apigateway) is None


def test_deploy_refuses_before_touching_anything_when_the_account_lacks_the_role(clean_emulator):
    from click.testing import CliRunner

    from tests.conftest import emulator_app, emulator_clients
    from webhookctl.cli import cli

    # GIVEN an account whose API Gateway has no CloudWatch Logs role (the emulator's accounts have one)
    clients = emulator_clients(clean_emulator)
    clients.apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                                        "value": ""}])
    # WHEN a first deploy runs
    result = CliRunner().invoke(cli, ["deploy", "--suffix", "pre", "--yes"], obj=emulator_app(clean_emulator))
    # THEN it fails with the fix, and nothing was created or uploaded
    assert result.exit_code == 1
    assert "API Gateway in this region has no CloudWatch Logs role" in result.stderr
    assert clients.s3.list_buckets()["Buckets"] == []
    assert clients.cloudformation.list_stacks()["StackSummaries"] == []
