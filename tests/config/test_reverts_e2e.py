"""deploy and diff against the emulator: settings the stack was deployed with are not reverted silently,
and a real `webhookctl deploy` subprocess takes its settings, tags and region from webhookctl.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import REGION, emulator_app
from webhookctl.handlers.webhook_common.contract.stack import RECEIVER_FUNCTION

pytestmark = pytest.mark.slow

SUFFIX = "cfg"
STACK = f"payment-webhooks-{SUFFIX}"
WARNING = ("warning: receiver_reserved_concurrency: deployed 50, this run 10 (default) — pass --set or put it "
           "in webhookctl.toml")


@pytest.fixture
def app(clean_emulator: Any) -> Any:
    return emulator_app(clean_emulator)


@pytest.fixture
def body_limit_lifted(monkeypatch: pytest.MonkeyPatch) -> None:
    """diff passes a template over 51,200 bytes as an S3 URL without uploading it (a bug of its own, outside
    these tests); the emulator takes any body size, so diff here passes the body itself."""
    from dataclasses import replace

    from webhookctl.commands import stack

    original = stack.deployer
    monkeypatch.setattr(stack, "deployer", lambda app: replace(original(app), template_body_limit=10**7))


def concurrency(app: Any) -> int:
    cfn, lam = app.clients.cloudformation, app.clients.client("lambda")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]}
    return lam.get_function_concurrency(FunctionName=outputs[RECEIVER_FUNCTION.key])["ReservedConcurrentExecutions"]


def change_sets(app: Any) -> list[str]:
    return [c["ChangeSetName"] for c in app.clients.cloudformation.list_change_sets(StackName=STACK)["Summaries"]]


@pytest.fixture
def deployed_with_50(app: Any, run: Callable[..., Result]) -> Any:
    result = run(app, "deploy", "--suffix", SUFFIX, "--yes", "--set", "receiver_reserved_concurrency=50")
    assert result.exit_code == 0, result.output
    assert WARNING not in result.stderr
    return app


def test_diff_warns_before_reverting_a_setting_given_once_with_set(deployed_with_50, run, body_limit_lifted):
    result = run(deployed_with_50, "diff", "--suffix", SUFFIX)
    assert result.exit_code == 0, result.output
    assert WARNING in result.stderr.splitlines()
    assert "ReceiverFunction" in result.stdout  # the change set that would revert it, shown


def test_deploy_without_a_terminal_refuses_to_revert_before_creating_anything(deployed_with_50, run):
    before = change_sets(deployed_with_50)
    result = run(deployed_with_50, "deploy", "--suffix", SUFFIX)
    assert result.exit_code == 1
    assert WARNING in result.stderr.splitlines()
    assert "1 setting(s) the stack was deployed with would revert" in " ".join(result.stderr.split())
    assert change_sets(deployed_with_50) == before and concurrency(deployed_with_50) == 50


def test_deploy_in_a_terminal_asks_and_a_no_leaves_the_stack_alone(deployed_with_50, run):
    result = run(deployed_with_50, "deploy", "--suffix", SUFFIX, input="n\n", terminal=True)
    assert result.exit_code == 1
    assert "reverting 1 setting(s)" in result.stderr and "deploy cancelled" in result.stderr
    assert concurrency(deployed_with_50) == 50


def test_deploy_with_yes_reverts_after_warning(deployed_with_50, run):
    result = run(deployed_with_50, "deploy", "--suffix", SUFFIX, "--yes")
    assert result.exit_code == 0, result.output
    assert WARNING in result.stderr.splitlines()
    # (the emulator's stack update leaves a function's reserved concurrency as it was: read the template)
    body = deployed_with_50.clients.cloudformation.get_template(StackName=STACK, TemplateStage="Original")
    template = body["TemplateBody"]
    assert template["Metadata"]["Webhookctl"]["settings"] == {}
    assert template["Resources"]["ReceiverFunction"]["Properties"]["ReservedConcurrentExecutions"] == 10
    again = run(deployed_with_50, "deploy", "--suffix", SUFFIX, "--yes")
    assert again.exit_code == 0 and "warning: receiver_reserved_concurrency" not in again.stderr


def test_the_setting_kept_in_webhookctl_toml_is_no_revert(deployed_with_50, run, tmp_path, body_limit_lifted):
    config = tmp_path / "webhookctl.toml"
    config.write_text(f"[{SUFFIX}.settings]\nreceiver_reserved_concurrency = 50\n")
    result = run(deployed_with_50, "diff", "--suffix", SUFFIX, "--config-file", str(config))
    assert result.exit_code == 0, result.output
    assert "warning: receiver_reserved_concurrency" not in result.stderr
    assert "is up to date" in result.stderr


def test_a_real_deploy_process_takes_settings_tags_and_region_from_the_config_file(app, clean_emulator, tmp_path):
    (tmp_path / "webhookctl.toml").write_text(
        f'[{SUFFIX}]\nregion = "{REGION}"\ntags = {{ team = "payments" }}\n\n'
        f"[{SUFFIX}.settings]\nreceiver_reserved_concurrency = 20\n")
    env = {**os.environ, "AWS_ENDPOINT_URL": clean_emulator.url, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("AWS_DEFAULT_REGION")  # the region comes from the file
    done = subprocess.run([sys.executable, "-m", "webhookctl", "deploy", "--suffix", SUFFIX, "--yes"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr
    tags = app.clients.cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Tags"]
    assert {"Key": "team", "Value": "payments"} in tags
    assert concurrency(app) == 20
