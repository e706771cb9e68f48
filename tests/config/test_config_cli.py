"""render, deploy, diff and init with webhookctl.toml, through click's runner (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhookctl.cli import cli

CONFIG = """
[prod]
[prod.settings]
receiver_reserved_concurrency = 50
api_rate_limit = 400

[staging.settings]
receiver_reserved_concurrency = 30
"""


def receiver_concurrency(result) -> int:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["Resources"]["ReceiverFunction"]["Properties"]["ReservedConcurrentExecutions"]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "webhookctl.toml"
    path.write_text(CONFIG)
    return path


def render(*args: str):
    return CliRunner().invoke(cli, ["render", "--format", "json", *args])


def test_render_takes_the_suffixs_environment_and_set_wins_over_it(config):
    assert receiver_concurrency(render("--suffix", "prod", "--config-file", str(config))) == 50
    assert receiver_concurrency(render("--suffix", "prod", "--config-file", str(config),
                                       "--set", "receiver_reserved_concurrency=70")) == 70
    assert receiver_concurrency(render("--suffix", "prod", "--config-file", str(config),
                                       "--config-env", "staging")) == 30


def test_webhookctl_toml_in_the_working_directory_is_read_without_a_flag(config, monkeypatch):
    monkeypatch.chdir(config.parent)
    assert receiver_concurrency(render("--suffix", "prod")) == 50
    other = render("--suffix", "dev")
    assert receiver_concurrency(other) == 10
    assert "note: webhookctl.toml has no [dev] environment" in other.stderr


@pytest.mark.parametrize("args", [["--config-env", "nope"], ["--suffix", "dev"]])
def test_an_environment_the_given_file_lacks_is_a_usage_error(config, args):
    result = render("--config-file", str(config), *args)
    assert result.exit_code == 2
    assert "has no [" in result.stderr and "(it has: prod, staging)" in result.stderr


@pytest.mark.parametrize("command", [["render"], ["diff"], ["deploy", "--yes"]])
def test_a_malformed_file_is_a_usage_error_naming_it(tmp_path, command):
    bad = tmp_path / "webhookctl.toml"
    bad.write_text("[prod]\nsettings.receiver_reserved_concurrency = 0\nregoin = 'x'\n")
    result = CliRunner().invoke(cli, [*command, "--suffix", "prod", "--config-file", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3: unknown key 'regoin' in [prod]" in " ".join(result.stderr.split())


@pytest.mark.parametrize("command", [["render"], ["diff"], ["deploy", "--yes"]])
def test_a_bad_setting_in_the_file_names_the_file(tmp_path, command):
    bad = tmp_path / "webhookctl.toml"
    bad.write_text("[prod.settings]\nreceiver_reserved_concurrency = 0\n")
    result = CliRunner().invoke(cli, [*command, "--suffix", "prod", "--config-file", str(bad)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "receiver_reserved_concurrency=0 must be an integer from 1 to 1000" in message
    assert f"(settings from {bad} [prod.settings] and --set)" in message


def test_a_missing_config_file_is_a_usage_error(tmp_path):
    result = render("--config-file", str(tmp_path / "none.toml"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_a_reserved_tag_in_the_file_is_refused_before_any_aws_call(tmp_path):
    bad = tmp_path / "webhookctl.toml"
    bad.write_text('[prod]\ntags = { "aws:team" = "x" }\n')
    result = CliRunner().invoke(cli, ["deploy", "--suffix", "prod", "--config-file", str(bad)])
    assert result.exit_code == 2
    assert "tag 'aws:team' uses a reserved prefix" in " ".join(result.stderr.split())


def test_init_writes_a_file_render_reads_and_refuses_to_overwrite_it_without_force(tmp_path):
    path = tmp_path / "cfg.toml"
    first = CliRunner().invoke(cli, ["init", "--suffix", "prod", "--path", str(path)])
    assert first.exit_code == 0, first.output
    assert "[prod.settings]" in path.read_text() and "# receiver_reserved_concurrency = 10" in path.read_text()
    path.write_text(path.read_text().replace("# receiver_reserved_concurrency = 10",
                                             "receiver_reserved_concurrency = 40"))
    again = CliRunner().invoke(cli, ["init", "--suffix", "prod", "--path", str(path)])
    assert again.exit_code == 2 and "exists: pass --force" in again.stderr
    assert receiver_concurrency(render("--suffix", "prod", "--config-file", str(path))) == 40
    forced = CliRunner().invoke(cli, ["init", "--suffix", "prod", "--path", str(path), "--force"])
    assert forced.exit_code == 0
    assert receiver_concurrency(render("--suffix", "prod", "--config-file", str(path))) == 10
