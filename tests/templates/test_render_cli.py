"""`webhookctl render` as a user runs it: stdout is the template, stderr the chatter, exit codes exact."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from cfn_flip import to_json
from click.testing import CliRunner

from webhookctl.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_default_is_yaml_for_dev_on_stdout_and_the_defaults_capacity_warning_is_deploys_to_give(runner):
    result = runner.invoke(cli, ["render"])
    assert result.exit_code == 0
    assert result.stdout.startswith("AWSTemplateFormatVersion: '2010-09-09'")
    assert "PaymentWebhooks-dev" in result.stdout
    assert result.stderr == ""


def test_render_warns_when_the_users_own_settings_cause_a_capacity_gap_unless_acknowledged(runner):
    caused = runner.invoke(cli, ["render", "--set", "receiver_reserved_concurrency=5"])
    assert caused.exit_code == 0
    assert caused.stderr.startswith("warning: the stage admits 1000 requests/s, but receiver_reserved_concurrency=5")
    assert "warning" not in caused.stdout
    acknowledged = runner.invoke(cli, ["render", "--set", "receiver_reserved_concurrency=5",
                                       "--set", "acknowledge_capacity=true"])
    assert (acknowledged.exit_code, acknowledged.stderr) == (0, "")


def test_json_format_suffix_and_sets(runner):
    result = runner.invoke(cli, ["render", "--format", "json", "--suffix", "prod",
                                 "--set", "receiver_reserved_concurrency=120", "--set", "waf_rate_limit=2000"])
    assert result.exit_code == 0 and result.stderr == ""
    resources = json.loads(result.stdout)["Resources"]
    assert resources["ReceiverFunction"]["Properties"]["ReservedConcurrentExecutions"] == 120
    (rate,) = [r for r in resources["WebAcl"]["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 2000
    assert resources["WebhookTable"]["Properties"]["TableName"] == "PaymentWebhooks-prod"


def test_output_file(runner, tmp_path):
    target = tmp_path / "stack.yaml"
    result = runner.invoke(cli, ["render", "-o", str(target), "--set", "receiver_reserved_concurrency=100"])
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(to_json(target.read_text()))["Resources"]["ReceiverFunction"]
    assert result.stderr.startswith(f"wrote {target} (")


@pytest.mark.parametrize(("args", "message"), [
    (["--suffix", "Prod"], "is not a valid suffix: use lowercase letters, digits and hyphens"),
    (["--suffix", "x" * 21], "at most 20 characters"),
    (["--set", "receiver_timeout"], "'receiver_timeout' is not KEY=VALUE"),
    (["--set", "bogus=1"], "unknown setting bogus"),
    (["--set", "processor_timeout=60"], "must be at least 6 x processor_timeout=60"),
    (["--set", "waf_rate_limit=5"], "waf_rate_limit=5 must be an integer from 10"),
    (["--format", "xml"], "'xml' is not one of 'yaml', 'json'"),
])
def test_bad_input_is_a_usage_error_and_writes_nothing(runner, tmp_path, args, message):
    target = tmp_path / "out.yaml"
    result = runner.invoke(cli, ["render", "-o", str(target), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert result.stdout == "" and not target.exists()


def test_list_settings(runner):
    result = runner.invoke(cli, ["render", "--list-settings"])
    assert result.exit_code == 0
    assert re.search(r"^receiver_reserved_concurrency +10 +receiver reserved concurrency$", result.stdout, re.M)


def test_version(runner):
    from webhookctl import __version__
    from webhookctl.handlers.webhook_common.contract import VERSION

    assert runner.invoke(cli, ["--version"]).stdout.startswith(f"webhookctl {__version__} (stack contract {VERSION}")


@pytest.mark.parametrize("args", [["render"], ["--help"], ["deploy", "--help"], ["dlq", "--help"]])
def test_render_and_help_never_import_boto3(args):
    code = ("import sys\nfrom webhookctl.cli import cli\n"
            f"try:\n    cli({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "sys.stdout.flush()\nsys.stderr.write('\\nBOTO3_LOADED=%s' % ('boto3' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stderr.rstrip().endswith("BOTO3_LOADED=False"), done.stderr[-2000:]
