"""`webhookctl bootstrap`: an account and region prepared once (API Gateway's logging role, the artifact bucket),
idempotently, with the plan shown before anything changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import Result

from tests.conftest import ACCOUNT, REGION, emulator_app
from webhookctl.edge.context import AppContext
from webhookctl.stack.bootstrap import LOGS_POLICY, ROLE_NAME, ROLE_PROPAGATION_DELAYS, TRUST
from webhookctl.stack.bucket import HARDENED_TAG, managed_bucket_name

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
POLICY_ARN = LOGS_POLICY.format(partition="aws")
BUCKET = managed_bucket_name(ACCOUNT, REGION)
PRESET_ROLE = f"arn:aws:iam::{ACCOUNT}:role/apigateway-cloudwatch-logs"  # the emulated account's preset
READS = ("Get", "Head", "List", "Describe")
NOT_ASSUMABLE = "The role ARN does not have required permissions set to API Gateway"


@pytest.fixture
def unbootstrapped(clean_emulator: Any) -> Iterator[Any]:
    """The emulator as a fresh AWS account: no CloudWatch Logs role in API Gateway's account settings.

    The emulated account presets one (ACCOUNT_PRESETS), and a reset keeps it (the preset is how moto makes a new
    account); moto in this process serves the emulator, so the setting is put back to what plain moto's fresh
    account has (None, which GetAccount leaves out, as AWS does)."""
    from moto.apigateway.models import apigateway_backends

    apigateway_backends[ACCOUNT][REGION].account.cloudwatch_role_arn = None
    assert "cloudwatchRoleArn" not in app(clean_emulator).clients.apigateway.get_account()
    yield clean_emulator


def app(emulator: Any, **prepared: Any) -> AppContext:
    return emulator_app(emulator, **prepared)


def bootstrap(run: Callable[..., Result], obj: AppContext, *args: str, **kwargs: Any) -> Result:
    return run(obj, "bootstrap", *args, **kwargs)


def record_calls(obj: AppContext) -> list[str]:
    """Every AWS operation the command makes, as "service.Operation", in order."""
    calls: list[str] = []
    for service in ("sts", "iam", "apigateway", "s3"):
        client = obj.clients.client(service)
        name = client.meta.service_model.service_name

        def before(model: Any, name: str = name, **kwargs: Any) -> None:
            calls.append(f"{name}.{model.name}")

        client.meta.events.register("before-call", before)
    return calls


def writes(calls: list[str]) -> list[str]:
    return [call for call in calls if not call.split(".")[1].startswith(READS)]


def logging_role(obj: AppContext) -> str | None:
    return obj.clients.apigateway.get_account().get("cloudwatchRoleArn")


def assert_hardened(obj: AppContext) -> None:
    s3 = obj.clients.s3
    assert HARDENED_TAG in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def make_role(obj: AppContext, trust: dict[str, Any] = TRUST, attach: bool = True) -> str:
    iam = obj.clients.iam
    arn = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if attach:
        iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=POLICY_ARN)
    return arn


def test_a_fresh_account_gets_the_role_the_setting_and_a_hardened_bucket(unbootstrapped, run):
    obj = app(unbootstrapped)
    result = bootstrap(run, obj, "--yes")
    assert result.exit_code == 0, result.output
    # the plan first, on stderr, then what was done
    assert f"will create role {ROLE_ARN}" in result.stderr
    assert f"will create s3://{BUCKET}" in result.stderr
    assert result.stderr.index("will create role") < result.stderr.index(f"created role {ROLE_ARN}")
    # stdout: the data only
    assert result.stdout.split() == ["RESOURCE", "VALUE", "apigateway-cloudwatch-logs-role", ROLE_ARN,
                                     "artifact-bucket", BUCKET]
    role = obj.clients.iam.get_role(RoleName=ROLE_NAME)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    attached = obj.clients.iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [POLICY_ARN]
    assert logging_role(obj) == ROLE_ARN
    assert_hardened(obj)


def test_a_second_run_has_nothing_to_do_and_writes_nothing(unbootstrapped, run):
    assert bootstrap(run, app(unbootstrapped), "--yes").exit_code == 0
    obj = app(unbootstrapped)
    calls = record_calls(obj)
    # (no --yes and no terminal: with nothing to do, nothing needs confirming)
    result = bootstrap(run, obj, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.stderr
    assert calls and writes(calls) == []
    assert json.loads(result.stdout) == {"account": ACCOUNT, "region": REGION, "status": "UP_TO_DATE",
                                         "roleArn": ROLE_ARN, "roleAction": None, "bucket": BUCKET,
                                         "bucketAction": None}


def test_an_existing_role_is_adopted_when_the_setting_is_unset(unbootstrapped, run):
    obj = app(unbootstrapped)
    arn = make_role(obj)
    calls = record_calls(obj)
    result = bootstrap(run, obj, "--yes")
    assert result.exit_code == 0, result.output
    assert f"role {arn} exists: will set it" in result.stderr
    assert "iam.CreateRole" not in calls and "iam.AttachRolePolicy" not in calls
    assert logging_role(obj) == arn


def test_an_existing_role_without_the_policy_gets_it(unbootstrapped, run):
    obj = app(unbootstrapped)
    make_role(obj, attach=False)
    calls = record_calls(obj)
    result = bootstrap(run, obj, "--yes")
    assert result.exit_code == 0, result.output
    assert "will attach AmazonAPIGatewayPushToCloudWatchLogs" in result.stderr
    assert "iam.CreateRole" not in calls
    attached = obj.clients.iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [POLICY_ARN]
    assert logging_role(obj) == ROLE_ARN


def test_a_role_api_gateway_cannot_assume_is_refused_before_any_change(unbootstrapped, run):
    obj = app(unbootstrapped)
    make_role(obj, trust={"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                         "Action": "sts:AssumeRole"}]})
    result = bootstrap(run, obj, "--yes")
    assert result.exit_code == 1
    assert f"role {ROLE_ARN} exists but does not trust apigateway.amazonaws.com" in " ".join(result.stderr.split())
    assert logging_role(obj) is None
    assert obj.clients.s3.list_buckets()["Buckets"] == []


def test_a_setting_already_made_is_adopted_with_no_iam_call(clean_emulator, run):
    # GIVEN the emulated account as it comes: its API Gateway already has a CloudWatch Logs role
    obj = app(clean_emulator)
    calls = record_calls(obj)
    result = bootstrap(run, obj, "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    assert f"set to {PRESET_ROLE} (kept)" in result.stderr
    assert [call for call in calls if call.startswith("iam.")] == []
    assert "apigateway.UpdateAccount" not in calls
    answer = json.loads(result.stdout)
    assert (answer["status"], answer["roleArn"], answer["roleAction"]) == ("BOOTSTRAPPED", PRESET_ROLE, None)
    assert answer["bucketAction"] == "create"
    assert logging_role(obj) == PRESET_ROLE
    assert_hardened(obj)


def test_dry_run_shows_the_plan_and_changes_nothing(unbootstrapped, run):
    obj = app(unbootstrapped)
    calls = record_calls(obj)
    result = bootstrap(run, obj, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    assert f"will create role {ROLE_ARN}" in result.stderr and f"will create s3://{BUCKET}" in result.stderr
    assert "dry run: nothing was changed" in result.stderr
    assert writes(calls) == []
    assert json.loads(result.stdout)["status"] == "PLANNED"
    assert logging_role(obj) is None
    assert obj.clients.iam.list_roles()["Roles"] == []
    assert obj.clients.s3.list_buckets()["Buckets"] == []


def test_without_a_terminal_or_yes_it_refuses_having_changed_nothing(unbootstrapped, run):
    obj = app(unbootstrapped)
    result = bootstrap(run, obj)
    assert result.exit_code == 1
    assert "no terminal to confirm on; re-run with --yes" in " ".join(result.stderr.split())
    assert f"will create role {ROLE_ARN}" in result.stderr  # the plan was shown first
    assert logging_role(obj) is None and obj.clients.s3.list_buckets()["Buckets"] == []


def test_in_a_terminal_it_asks_and_a_no_changes_nothing(unbootstrapped, run):
    obj = app(unbootstrapped)
    declined = bootstrap(run, obj, input="n\n", terminal=True)
    assert declined.exit_code == 1
    assert f"Bootstrap account {ACCOUNT} in {REGION} as shown?" in declined.stderr
    assert "bootstrap cancelled: nothing was changed" in declined.stderr
    assert logging_role(obj) is None and obj.clients.s3.list_buckets()["Buckets"] == []
    accepted = bootstrap(run, app(unbootstrapped), input="y\n", terminal=True)
    assert accepted.exit_code == 0, accepted.output
    assert logging_role(obj) == ROLE_ARN


def stubbed_apigateway(failures: int) -> tuple[Any, Stubber]:
    """API Gateway with no logging role that refuses the new role `failures` times (IAM propagating), then takes it."""
    client = boto3.client("apigateway", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("get_account", {})
    expected = {"patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn", "value": ROLE_ARN}]}
    for _ in range(failures):
        stubber.add_client_error("update_account", service_error_code="BadRequestException",
                                 service_message=NOT_ASSUMABLE, http_status_code=400, expected_params=expected)
    if failures <= len(ROLE_PROPAGATION_DELAYS):
        stubber.add_response("update_account", {"cloudwatchRoleArn": ROLE_ARN}, expected)
    stubber.activate()
    return client, stubber


def test_a_new_role_api_gateway_cannot_assume_yet_is_retried_with_backoff(clean_emulator, run, clock):
    apigateway, stubber = stubbed_apigateway(failures=2)
    obj = app(clean_emulator, apigateway=apigateway)
    result = bootstrap(run, obj, "--yes")
    assert result.exit_code == 0, result.output
    stubber.assert_no_pending_responses()
    assert clock.sleeps == [2.0, 4.0]  # instant: the command sleeps on the clock it is handed
    assert result.stderr.count("cannot assume") == 2 and "retrying in 2 s" in result.stderr


def test_a_role_still_refused_after_the_backoff_fails_with_what_to_check(clean_emulator, run, clock):
    apigateway, stubber = stubbed_apigateway(failures=len(ROLE_PROPAGATION_DELAYS) + 1)
    result = bootstrap(run, app(clean_emulator, apigateway=apigateway), "--yes")
    assert result.exit_code == 1
    stubber.assert_no_pending_responses()
    assert clock.sleeps == list(ROLE_PROPAGATION_DELAYS)
    message = " ".join(result.stderr.split())
    assert f"API Gateway still refuses role {ROLE_ARN} after 60 s ({NOT_ASSUMABLE})" in message
    assert "run bootstrap again" in message


def test_deploy_in_an_unbootstrapped_account_points_at_bootstrap(unbootstrapped, run):
    result = run(app(unbootstrapped), "deploy", "--suffix", "boot", "--yes")
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "API Gateway in this region has no CloudWatch Logs role" in message
    assert f"run `webhookctl bootstrap --region {REGION}`" in message
    assert message.index("webhookctl bootstrap") < message.index("aws apigateway update-account")


def test_a_real_bootstrap_process_prepares_the_account(unbootstrapped, tmp_path):
    env = {**os.environ, "AWS_ENDPOINT_URL": unbootstrapped.url}
    env.pop("AWS_DEFAULT_REGION")  # the region comes from --region
    command = [str(Path(sys.executable).parent / "webhookctl"), "bootstrap", "--region", REGION, "--yes"]
    done = subprocess.run(command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["RESOURCE", "VALUE", "apigateway-cloudwatch-logs-role", ROLE_ARN,
                                   "artifact-bucket", BUCKET]
    obj = app(unbootstrapped)
    assert logging_role(obj) == ROLE_ARN
    assert_hardened(obj)
    again = subprocess.run([*command[:-1], "--format", "json"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr and json.loads(again.stdout)["status"] == "UP_TO_DATE"
