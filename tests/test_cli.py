"""The CLI's edge, across commands: required options, usage errors, exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from webhookctl.cli import COMMANDS, cli

NEEDS_SUFFIX = [["deploy"], ["diff"], ["status"], ["destroy"], ["dlq", "stats"], ["dlq", "peek"],
                ["dlq", "redrive"], ["dlq", "purge"], ["alarms", "status"], ["secrets", "list"],
                ["secrets", "set", "--provider", "stripe"], ["secrets", "remove", "--provider", "stripe"],
                ["logs", "--function", "receiver"]]


@pytest.mark.parametrize("args", NEEDS_SUFFIX, ids=" ".join)
def test_stack_commands_require_a_suffix(args, monkeypatch):
    monkeypatch.delenv("WEBHOOKCTL_SUFFIX", raising=False)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "Missing option '--suffix'" in result.stderr


def test_every_registered_command_loads_and_has_help():
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert result.stdout.startswith(f"Usage: cli {name} ")
        assert "--help" in result.stdout


@pytest.mark.parametrize("command", [["render"], ["deploy", "--yes"], ["diff"]])
def test_suffix_cannot_be_changed_through_set(command):
    result = CliRunner().invoke(cli, [*command, "--suffix", "prod", "--set", "suffix=dev"])
    assert result.exit_code == 2
    assert "the suffix is not a --set setting: pass --suffix" in result.stderr


def test_render_to_a_missing_directory_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["render", "-o", str(tmp_path / "missing" / "t.yaml")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "No such file or directory" in result.stderr


@pytest.mark.parametrize(("tag", "message"), [
    ("aws:team=x", "tag 'aws:team' uses a reserved prefix"),
    ("webhookctl:suffix=other", "tag 'webhookctl:suffix' uses a reserved prefix"),
    ("k" * 129 + "=v", "keys are at most 128 characters"),
    ("team", "'team' is not KEY=VALUE"),
])
def test_bad_stack_tags_are_usage_errors_before_any_aws_call(tag, message):
    result = CliRunner().invoke(cli, ["deploy", "--suffix", "prod", "--tags", tag])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_the_readme_documents_every_command_and_the_two_setup_commands():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "make render" in readme and "make test" in readme
    assert [name for name in COMMANDS if f"`webhookctl {name}" not in readme] == []


def test_send_refuses_count_with_one_event_file(tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"id": "evt_1"}')
    result = CliRunner().invoke(cli, ["send", "-p", "stripe", "--url", "http://127.0.0.1:9/", "--secret", "s",
                                      "--event", str(event), "--count", "5"])
    assert result.exit_code == 2
    assert "--count sends N distinct events, but --event FILE is one event" in " ".join(result.stderr.split())
