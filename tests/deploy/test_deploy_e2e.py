"""deploy, diff, status and destroy end to end: the real template against the local emulator."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.conftest import ACCOUNT, REGION, emulator_app
from webhookctl.cli import cli

pytestmark = pytest.mark.slow

SUFFIX = "e2e"
STACK = f"payment-webhooks-{SUFFIX}"
BUCKET = f"webhookctl-artifacts-{ACCOUNT}-{REGION}"


@pytest.fixture
def app(clean_emulator: Any) -> Any:
    return emulator_app(clean_emulator)


@pytest.fixture
def deployed(app: Any, run: Callable[..., Result]) -> Result:
    """The stack after a first `deploy --yes`."""
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes")
    assert result.exit_code == 0, result.output
    return result


def stack_of(app: Any) -> dict[str, Any]:
    return app.clients.cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]


def events_of(app: Any) -> list[str]:
    events = app.clients.cloudformation.describe_stack_events(StackName=STACK)["StackEvents"]
    return [e["EventId"] for e in events]


def words(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def uploaded_keys(result: Result) -> list[str]:
    prefix = f"uploaded s3://{BUCKET}/"
    return [line.removeprefix(prefix).split()[0] for line in result.stderr.splitlines() if line.startswith(prefix)]


def test_first_deploy_creates_the_stack_and_uploads_both_artifacts_and_the_template(app: Any,
                                                                                     deployed: Result) -> None:
    s3 = app.clients.s3
    stack = stack_of(app)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert sorted(uploaded_keys(deployed)) == keys
    # the template is over CreateChangeSet's 51,200-byte body limit, so CloudFormation reads it from S3
    assert [k.split("/")[0] for k in keys] == ["handlers", "layer", "templates"]
    assert f"uploaded s3://{BUCKET}/{keys[2]} (template over 51200 bytes)" in deployed.stderr
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "ArtifactBucket": BUCKET, "HandlersKey": keys[0], "LayerKey": keys[1]}
    assert {"Key": "webhookctl:suffix", "Value": SUFFIX} in stack["Tags"]
    # the change set was shown before it ran, then the outputs printed on stdout
    assert ["+", "Add", "ReceiverFunction", "AWS::Lambda::Function"] in words(deployed.stderr)
    assert f"created artifact bucket s3://{BUCKET}" in deployed.stderr
    assert ["SigningSecretArn", outputs["SigningSecretArn"]] in words(deployed.stdout)
    assert outputs["SigningSecretArn"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
    assert outputs["TableName"] == "PaymentWebhooks-e2e"


def test_managed_bucket_is_private_encrypted_versioned_tls_only_and_expires_old_versions(
        app: Any, deployed: Result) -> None:
    s3 = app.clients.s3
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert lifecycle[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_a_managed_bucket_left_half_made_is_hardened_by_the_next_deploy(
        app: Any, run: Callable[..., Result]) -> None:
    # GIVEN an earlier run that created the managed bucket and died before hardening it
    s3 = app.clients.s3
    s3.create_bucket(Bucket=BUCKET)
    # WHEN a deploy runs, and then another
    first = run(app, "deploy", "--suffix", SUFFIX, "--yes")
    second = run(app, "deploy", "--suffix", SUFFIX, "--yes")
    # THEN the first finished the hardening and said so; the second found nothing to do
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert f"hardened artifact bucket s3://{BUCKET}" in first.stderr
    assert "artifact bucket" not in second.stderr
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"][0]["Effect"] == "Deny"
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]


def test_second_deploy_with_nothing_changed_uploads_nothing_and_executes_nothing(
        app: Any, deployed: Result, run: Callable[..., Result]) -> None:
    before = (events_of(app), stack_of(app)["StackStatus"])
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes")
    assert result.exit_code == 0, result.output
    assert uploaded_keys(result) == []
    assert f"stack {STACK} is up to date" in result.stderr
    assert (events_of(app), stack_of(app)["StackStatus"]) == before
    assert app.clients.cloudformation.list_change_sets(StackName=STACK)["Summaries"] == []
    assert "WebhookUrl" in result.stdout  # the outputs are still printed


def test_nothing_to_deploy_fails_only_with_fail_on_empty(app: Any, deployed: Result,
                                                         run: Callable[..., Result]) -> None:
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--fail-on-empty")
    assert result.exit_code == 1
    assert result.stderr.endswith(f"Error: stack {STACK} is up to date: nothing to deploy (--fail-on-empty)\n")


def test_a_handler_change_uploads_one_zip_and_updates_the_functions(
        app: Any, deployed: Result, run: Callable[..., Result], handlers_source: Path) -> None:
    # GIVEN a deployed stack WHEN one handler changes
    with (handlers_source / "receiver.py").open("a") as handle:
        handle.write("\n# a code change\n")
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--format", "json")
    # THEN only the new handlers zip is uploaded and the stack is updated with it
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (new_key,) = uploaded_keys(result)
    assert report["uploads"] == [new_key] and new_key.startswith("handlers/")
    assert report["status"] == "UPDATE_COMPLETE" == stack_of(app)["StackStatus"]
    assert {c["logicalId"] for c in report["changeSet"]["changes"]} == {
        "ReceiverFunction", "ProcessorFunction", "AuditFunction", "SweeperFunction"}
    assert {c["action"] for c in report["changeSet"]["changes"]} == {"Modify"}
    body = app.clients.s3.get_object(Bucket=BUCKET, Key=new_key)["Body"].read()
    function = app.clients.client("lambda").get_function_configuration(FunctionName="webhook-receiver-e2e")
    assert function["CodeSha256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_status_shows_status_and_outputs(app: Any, deployed: Result, run: Callable[..., Result]) -> None:
    text = run(app, "status", "--suffix", SUFFIX)
    summary = json.loads(run(app, "status", "--suffix", SUFFIX, "--format", "json").stdout)
    assert text.exit_code == 0, text.output
    assert words(text.stdout)[:2] == [["stack:", STACK], ["status:", "CREATE_COMPLETE"]]
    assert summary["status"] == "CREATE_COMPLETE" and summary["terminationProtection"] is False
    assert summary["outputs"] == {o["OutputKey"]: o["OutputValue"] for o in stack_of(app)["Outputs"]}


def test_status_of_a_missing_stack_says_how_to_deploy_it(app: Any, run: Callable[..., Result]) -> None:
    result = run(app, "status", "--suffix", "absent")
    assert result.exit_code == 1
    assert result.stderr == ("Error: stack payment-webhooks-absent not found: deploy it with "
                             "`webhookctl deploy --suffix absent`\n")


def test_diff_shows_what_deploy_would_change_and_changes_nothing(
        app: Any, deployed: Result, run: Callable[..., Result]) -> None:
    before = (events_of(app), stack_of(app)["Parameters"])
    same = run(app, "diff", "--suffix", SUFFIX, "--fail")
    changed = run(app, "diff", "--suffix", SUFFIX, "--set", "receiver_timeout=20")
    failing = run(app, "diff", "--suffix", SUFFIX, "--set", "receiver_timeout=20", "--fail")
    assert (same.exit_code, same.stderr.splitlines()[-1]) == (0, f"stack {STACK} is up to date")
    assert changed.exit_code == 0, changed.output
    assert words(changed.stdout)[1:] == [["*", "Modify", "ReceiverFunction", "AWS::Lambda::Function"]]
    assert failing.exit_code == 1 and "1 change(s) pending" in failing.stderr
    assert (events_of(app), stack_of(app)["Parameters"]) == before
    assert app.clients.cloudformation.list_change_sets(StackName=STACK)["Summaries"] == []


def test_diff_of_a_new_stack_lists_every_resource_and_leaves_nothing_behind(
        app: Any, run: Callable[..., Result]) -> None:
    result = run(app, "diff", "--suffix", SUFFIX, "--format", "json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    assert {c["action"] for c in changes} == {"Add"} and len(changes) > 40
    assert run(app, "status", "--suffix", SUFFIX).exit_code == 1  # no REVIEW_IN_PROGRESS shell left


def test_without_a_terminal_and_without_yes_nothing_is_executed(app: Any, run: Callable[..., Result]) -> None:
    result = run(app, "deploy", "--suffix", SUFFIX)
    assert result.exit_code == 1
    message = result.stderr.splitlines()[-1]
    assert message.startswith("Error: not executing change set webhookctl-20260102-030405-000: no terminal "
                              "to confirm on; re-run with --yes, or execute the change set as created: ")
    # the printed command reaches the same endpoint (here the emulator) and region as the deploy did
    assert message.endswith(f"aws --region {REGION} --endpoint-url {app.endpoint_url} cloudformation "
                            f"execute-change-set --stack-name {STACK} --change-set-name webhookctl-20260102-030405-000")
    assert stack_of(app)["StackStatus"] == "REVIEW_IN_PROGRESS"
    # ... and the next deploy treats the never-executed stack as absent
    again = run(app, "deploy", "--suffix", SUFFIX, "--yes")
    assert again.exit_code == 0, again.output
    assert stack_of(app)["StackStatus"] == "CREATE_COMPLETE"


def test_no_execute_keeps_the_change_set_for_review(app: Any, deployed: Result, run: Callable[..., Result],
                                                    handlers_source: Path) -> None:
    (handlers_source / "audit.py").write_text((handlers_source / "audit.py").read_text() + "\n# v2\n")
    result = run(app, "deploy", "--suffix", SUFFIX, "--no-execute")
    assert result.exit_code == 0, result.output
    assert "change set webhookctl-20260102-030405-000 created, not executed" in result.stderr
    summaries = app.clients.cloudformation.list_change_sets(StackName=STACK)["Summaries"]
    assert [s["ChangeSetName"] for s in summaries] == ["webhookctl-20260102-030405-000"]
    assert stack_of(app)["StackStatus"] == "CREATE_COMPLETE"


def test_in_a_terminal_deploy_asks_and_a_no_deletes_the_change_set(
        app: Any, deployed: Result, run: Callable[..., Result], handlers_source: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (handlers_source / "audit.py").write_text((handlers_source / "audit.py").read_text() + "\n# v2\n")
    declined = run(app, "deploy", "--suffix", SUFFIX, input="n\n", terminal=True)
    assert declined.exit_code == 1
    assert "Execute change set webhookctl-20260102-030405-000 on payment-webhooks-e2e? [y/N]" in declined.stderr
    assert declined.stderr.endswith("Error: deploy cancelled: change set webhookctl-20260102-030405-000 deleted, "
                                    "stack unchanged\n")
    assert app.clients.cloudformation.list_change_sets(StackName=STACK)["Summaries"] == []
    accepted = run(app, "deploy", "--suffix", SUFFIX, input="y\n", terminal=True)
    assert accepted.exit_code == 0, accepted.output
    assert stack_of(app)["StackStatus"] == "UPDATE_COMPLETE"


def test_protect_turns_on_termination_protection_and_destroy_refuses(
        app: Any, run: Callable[..., Result]) -> None:
    assert run(app, "deploy", "--suffix", SUFFIX, "--yes", "--protect").exit_code == 0
    assert stack_of(app)["EnableTerminationProtection"] is True
    result = run(app, "destroy", "--suffix", SUFFIX, "--yes")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: stack {STACK} has termination protection: lift it with `aws --region {REGION} --endpoint-url "
        f"{app.endpoint_url} cloudformation update-termination-protection --stack-name {STACK} "
        "--no-enable-termination-protection`, then destroy again\n")
    assert stack_of(app)["StackStatus"] == "CREATE_COMPLETE"


def test_destroy_deletes_the_stack_and_optionally_its_artifacts(
        app: Any, deployed: Result, run: Callable[..., Result]) -> None:
    refused = run(app, "destroy", "--suffix", SUFFIX)
    assert refused.exit_code == 1 and "re-run with --yes" in refused.stderr
    stack_id = stack_of(app)["StackId"]
    result = run(app, "destroy", "--suffix", SUFFIX, "--yes", "--purge-artifacts")
    assert result.exit_code == 0, result.output
    assert "DELETE_COMPLETE" in result.stderr
    assert app.clients.cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == \
        "DELETE_COMPLETE"
    assert app.clients.s3.list_object_versions(Bucket=BUCKET).get("Versions", []) == []
    again = run(app, "destroy", "--suffix", SUFFIX, "--yes")
    assert (again.exit_code, again.stderr) == (0, f"stack {STACK} does not exist: nothing to destroy\n")


def test_purging_keeps_artifacts_another_stack_still_uses(
        app: Any, deployed: Result, run: Callable[..., Result]) -> None:
    # GIVEN a second stack deployed from the same sources (so the same content-addressed keys)
    other = run(app, "deploy", "--suffix", "e2e-two", "--yes")
    assert other.exit_code == 0, other.output
    keys = sorted(v["Key"] for v in app.clients.s3.list_object_versions(Bucket=BUCKET)["Versions"])
    # WHEN the first is destroyed with --purge-artifacts
    result = run(app, "destroy", "--suffix", SUFFIX, "--yes", "--purge-artifacts")
    # THEN only the first stack's own template is deleted (its names carry its suffix): nothing the second stack
    # runs from, and the user is told why
    assert result.exit_code == 0, result.output
    left = sorted(v["Key"] for v in app.clients.s3.list_object_versions(Bucket=BUCKET)["Versions"])
    (deleted,) = set(keys) - set(left)
    assert deleted.startswith("templates/") and f"deleted s3://{BUCKET}/{deleted} (1 version(s))" in result.stderr
    assert [k.split("/")[0] for k in left] == ["handlers", "layer", "templates"]
    assert [line for line in result.stderr.splitlines() if line.startswith("kept ")] == [
        f"kept s3://{BUCKET}/{key}: stack payment-webhooks-e2e-two still uses it"
        for key in (stack_parameter(app, "payment-webhooks-e2e-two", "HandlersKey"),
                    stack_parameter(app, "payment-webhooks-e2e-two", "LayerKey"))]


def stack_parameter(app: Any, stack: str, key: str) -> str:
    parameters = app.clients.cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]
    return next(p["ParameterValue"] for p in parameters if p["ParameterKey"] == key)


def test_aws_endpoint_url_points_every_client_at_the_emulator(
        app: Any, deployed: Result, clean_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", clean_emulator.url)
    result = CliRunner().invoke(cli, ["status", "--suffix", SUFFIX, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "CREATE_COMPLETE"


COMMANDS = [["status"], ["deploy", "--yes"], ["diff"], ["destroy", "--yes"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_no_credentials_is_a_usage_error_with_the_fix(command: list[str], monkeypatch: pytest.MonkeyPatch,
                                                      run: Callable[..., Result]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    result = run(None, *command, "--suffix", SUFFIX)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith(
        "Error: no AWS credentials: run `aws configure` or `aws sso login`")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_no_region_is_a_usage_error_with_the_fix(command: list[str], monkeypatch: pytest.MonkeyPatch,
                                                 run: Callable[..., Result]) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = run(None, *command, "--suffix", SUFFIX)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("Error: no AWS region: pass --region")


def test_a_template_over_the_body_limit_is_passed_by_s3_url(app: Any, clock: Any, packaging: Any) -> None:
    from webhookctl.stack.deploy import Deployer, DeployOptions
    from webhookctl.stack.stack_events import Timing

    said: list[str] = []
    ui = type("Ui", (), {"interactive": False, "say": lambda self, text: said.append(text),
                         "confirm": lambda self, question: False})()
    deployer = Deployer(app.clients, ui, Timing(clock=clock.as_clock), packaging, template_body_limit=1000)
    result = deployer.deploy(DeployOptions(suffix=SUFFIX, yes=True))
    assert result.status == "CREATE_COMPLETE"
    (line,) = [line for line in said if "(template over 1000 bytes)" in line]
    key = line.split()[1].removeprefix(f"s3://{BUCKET}/")
    template = json.loads(app.clients.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert key.startswith("templates/") and "ReceiverFunction" in template["Resources"]
    assert stack_of(app)["StackStatus"] == "CREATE_COMPLETE"


def test_invalid_settings_are_a_usage_error_before_anything_is_touched(app: Any, run: Callable[..., Result]) -> None:
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--set", "receiver_timeout=99")
    assert result.exit_code == 2
    assert "invalid settings: receiver_timeout=99 must be an integer from 1 to 29" in result.stderr
    assert app.clients.s3.list_buckets()["Buckets"] == []


def test_a_given_bucket_is_used_as_is_and_must_exist(app: Any, run: Callable[..., Result]) -> None:
    missing = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--bucket", "my-artifacts")
    assert missing.exit_code == 2
    assert "artifact bucket my-artifacts does not exist: create it, or leave out --bucket" in missing.stderr
    app.clients.s3.create_bucket(Bucket="my-artifacts")
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--bucket", "my-artifacts")
    assert result.exit_code == 0, result.output
    assert [b["Name"] for b in app.clients.s3.list_buckets()["Buckets"]] == ["my-artifacts"]
    assert {"ParameterKey": "ArtifactBucket", "ParameterValue": "my-artifacts"} in stack_of(app)["Parameters"]


def test_a_given_bucket_in_another_region_is_refused_before_anything_is_uploaded(
        app: Any, run: Callable[..., Result]) -> None:
    app.clients.s3.create_bucket(Bucket="eu-artifacts",
                                 CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--bucket", "eu-artifacts")
    assert result.exit_code == 2
    assert f"artifact bucket eu-artifacts is in eu-west-1, the stack in {REGION}" in result.stderr
    assert app.clients.s3.list_objects_v2(Bucket="eu-artifacts").get("KeyCount") == 0


def test_protect_on_an_up_to_date_stack_still_protects_it(app: Any, deployed: Result,
                                                          run: Callable[..., Result]) -> None:
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--protect")
    assert result.exit_code == 0, result.output
    assert f"stack {STACK} is up to date" in result.stderr
    assert f"termination protection is on for {STACK}" in result.stderr
    assert stack_of(app)["EnableTerminationProtection"] is True


def test_retain_data_is_said_before_anything_is_changed(app: Any, run: Callable[..., Result]) -> None:
    result = run(app, "diff", "--suffix", "e2e-keep", "--set", "retain_data=true")
    assert result.exit_code == 0, result.output
    assert ("retain_data=true: the table PaymentWebhooks-e2e-keep, the KMS key and the audit log group "
            "/aws/lambda/webhook-audit-e2e-keep stay when the stack is deleted") in result.stderr
    assert "retain_data" not in run(app, "diff", "--suffix", "e2e-keep").stderr
