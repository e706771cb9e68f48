"""Account prerequisites are found before CloudFormation fails on them halfway through."""

from __future__ import annotations

import boto3
from moto import mock_aws

from webhookctl.stack.preflight import apigateway_logging_problem


def test_missing_apigateway_logging_role_is_reported_with_the_fix():
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="eu-west-1")
        # (cleared explicitly: once the emulator's patches are in, moto's accounts come with the role)
        apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}])
        problem = apigateway_logging_problem(apigateway)
        assert problem.startswith("API Gateway in this region has no CloudWatch Logs role")
        # bootstrap first, for the region at hand; the manual AWS CLI way after it
        assert problem.index("`webhookctl bootstrap --region eu-west-1`") < problem.index(
            "aws apigateway update-account")


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
    assert "`webhookctl bootstrap --region us-east-1`" in " ".join(result.stderr.split())
    assert clients.s3.list_buckets()["Buckets"] == []
    assert clients.cloudformation.list_stacks()["StackSummaries"] == []


class FakeLambda:
    def __init__(self, quota: int, unreserved: int) -> None:
        self.limit = {"ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved}

    def get_account_settings(self) -> dict:
        return {"AccountLimit": self.limit}


def test_a_new_accounts_small_quota_cannot_hold_any_reservation():
    from webhookctl.stack.preflight import concurrency_problem

    problem = concurrency_problem(FakeLambda(quota=10, unreserved=10), wanted=15, reserved_now=0)
    assert problem.startswith("the functions would reserve 15 concurrent executions, but this account's Lambda "
                              "quota is 10 with 10 unreserved, and Lambda keeps at least 10 unreserved")
    assert "--set" in problem


def test_an_update_needs_only_the_difference():
    from webhookctl.stack.preflight import concurrency_problem

    # GIVEN a 200 quota where this stack already reserves 15 (185 unreserved)
    account = FakeLambda(quota=200, unreserved=185)
    assert concurrency_problem(account, wanted=15, reserved_now=15) is None
    assert concurrency_problem(account, wanted=100, reserved_now=15) is None  # leaves exactly 100
    assert "would reserve 101" in concurrency_problem(account, wanted=101, reserved_now=15)


def test_deploy_refuses_a_reservation_the_account_cannot_grant(clean_emulator, monkeypatch):
    from click.testing import CliRunner

    from tests.conftest import emulator_app, emulator_clients
    from webhookctl.cli import cli

    # GIVEN an account with AWS's quota for new accounts (10 concurrent executions)
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "10")
    clients = emulator_clients(clean_emulator)
    # WHEN a first deploy runs
    result = CliRunner().invoke(cli, ["deploy", "--suffix", "quota", "--yes"], obj=emulator_app(clean_emulator))
    # THEN it fails with the numbers and the way out, having created and uploaded nothing
    assert result.exit_code == 1
    assert "quota is 10 with 10 unreserved" in result.stderr
    assert clients.s3.list_buckets()["Buckets"] == []
    assert clients.cloudformation.list_stacks()["StackSummaries"] == []
