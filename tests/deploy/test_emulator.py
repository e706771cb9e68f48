"""The emulator's patches: the real template deploys and updates with what AWS would show."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from tests.conftest import ACCOUNT, REGION, emulator_app
from webhookctl.cli import cli
from webhookctl.handlers.webhook_common.contract import stack as contract_stack
from webhookctl.stack.deploy import PackageConfig

pytestmark = pytest.mark.slow

SUFFIX = "emu"
STACK = f"payment-webhooks-{SUFFIX}"


@pytest.fixture
def app(clean_emulator: Any) -> Any:
    return emulator_app(clean_emulator)


def deploy(run: Callable[..., Result], app: Any, *extra: str) -> Result:
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", *extra)
    assert result.exit_code == 0, result.output
    return result


def outputs_of(app: Any) -> dict[str, str]:
    stack = app.clients.cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_resources_moto_ignores_exist_and_their_refs_resolve(app: Any, run: Callable[..., Result]) -> None:
    deploy(run, app)
    outputs = outputs_of(app)
    secret = app.clients.secretsmanager.describe_secret(SecretId=outputs["SigningSecretArn"])
    alarms = {a["AlarmName"] for a in app.clients.cloudwatch.describe_alarms()["MetricAlarms"]}
    api_id = outputs["WebhookUrl"].removeprefix("https://").split(".")[0]
    stages = app.clients.client("apigateway").get_stages(restApiId=api_id)["item"]
    receiver = app.clients.client("lambda").get_function_configuration(FunctionName=outputs["ReceiverFunctionName"])
    assert secret["Name"] == f"webhook-signing-secrets-{SUFFIX}"
    assert alarms == {outputs[o.key] for o in contract_stack.with_role(contract_stack.ALARM)} and len(alarms) == 19
    assert [s["stageName"] for s in stages] == ["live"]
    assert receiver["Environment"]["Variables"]["SIGNING_SECRETS_ARN"] == outputs["SigningSecretArn"]
    assert (receiver["Architectures"], receiver["TracingConfig"]) == (["arm64"], {"Mode": "Active"})
    assert [layer["Arn"] for layer in receiver["Layers"]] == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{STACK}-deps:1"]
    processor = app.clients.client("lambda").get_function_configuration(FunctionName=outputs["ProcessorFunctionName"])
    bus = app.clients.client("events").describe_event_bus(Name=outputs["EventBusName"])
    assert processor["Environment"]["Variables"]["EVENT_BUS_NAME"] == bus["Name"] == f"payment-events-{SUFFIX}"
    assert outputs["EventBusArn"] == bus["Arn"]


class OnePackagePip:
    """Stands in for pip: 'installs' one module per requirement line."""

    def __call__(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        target = Path(command[command.index("--target") + 1])
        for line in Path(command[command.index("-r") + 1]).read_text().split():
            (target / f"{line.split('==')[0]}.py").write_text(f"# {line}\n")
        return subprocess.CompletedProcess(command, 0, "", "")


def test_a_new_layer_publishes_a_version_and_the_functions_move_to_it(
        app: Any, run: Callable[..., Result], packaging: PackageConfig, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(run, app)
    requirements = tmp_path / "new-requirements.txt"
    requirements.write_text("six==1.16.0\n")
    app.packaging = PackageConfig(cache_dir=packaging.cache_dir, requirements=requirements, pip=OnePackagePip(),
                                  handlers_source=packaging.handlers_source)
    result = CliRunner().invoke(cli, ["deploy", "--suffix", SUFFIX, "--yes", "--format", "json"], obj=app)
    assert result.exit_code == 0, result.output
    lambdas = app.clients.client("lambda")
    for name in ("webhook-receiver-emu", "webhook-processor-emu", "webhook-audit-emu"):
        assert [layer["Arn"] for layer in lambdas.get_function_configuration(FunctionName=name)["Layers"]] == [
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{STACK}-deps:2"]


def test_an_identical_update_is_a_failed_change_set_that_cannot_be_executed(
        app: Any, run: Callable[..., Result]) -> None:
    deploy(run, app)
    cloudformation = app.clients.cloudformation
    stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    template = cloudformation.get_template(StackName=STACK)["TemplateBody"]
    created = cloudformation.create_change_set(
        StackName=STACK, ChangeSetName="same", ChangeSetType="UPDATE",
        # boto3 hands back a JSON template body already parsed
        TemplateBody=template if isinstance(template, str) else json.dumps(template),
        Parameters=[{"ParameterKey": p["ParameterKey"], "ParameterValue": p["ParameterValue"]}
                    for p in stack["Parameters"]])
    described = cloudformation.describe_change_set(ChangeSetName=created["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"].startswith("The submitted information didn't contain changes.")
    with pytest.raises(ClientError, match="cannot be executed in its current execution status of"):
        cloudformation.execute_change_set(ChangeSetName=created["Id"])


def test_a_create_change_set_for_a_live_stack_is_refused(app: Any, run: Callable[..., Result]) -> None:
    deploy(run, app)
    with pytest.raises(ClientError, match=f"Stack \\[{STACK}\\] already exists"):
        app.clients.cloudformation.create_change_set(StackName=STACK, ChangeSetName="again",
                                                     ChangeSetType="CREATE", TemplateBody="{}")
    stacks = app.clients.cloudformation.list_stacks()["StackSummaries"]
    assert [(s["StackName"], s["StackStatus"]) for s in stacks] == [(STACK, "CREATE_COMPLETE")]


def test_a_tls_only_bucket_policy_still_lets_requests_through(app: Any, run: Callable[..., Result]) -> None:
    deploy(run, app)  # creates the managed bucket with its DenyInsecureTransport policy, then uploads to it
    bucket = f"webhookctl-artifacts-{ACCOUNT}-{REGION}"
    app.clients.s3.put_object(Bucket=bucket, Key="probe", Body=b"x")
    assert app.clients.s3.get_object(Bucket=bucket, Key="probe")["Body"].read() == b"x"
