"""What each command loads: only render, diff, deploy and local up may pay for troposphere and awacs, and no
--help loads boto3. Each case runs in a fresh interpreter, which is the only honest way to see imports."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from webhookctl.cli import cli

HEAVY = {"troposphere", "awacs", "cfn_flip", "yaml"}
AWS = {"boto3", "botocore"}
# The commands whose work is building the template (local up deploys it into the emulator).
BUILDS_THE_TEMPLATE = {("render",), ("diff",), ("deploy",), ("local", "up")}

PROBE = """
import json, sys
from webhookctl.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="webhookctl")
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})), file=sys.__stderr__)
"""


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        path = (*prefix, name)
        paths.append(path)
        if isinstance(command, click.Group):
            paths += command_paths(command, path)
    return paths


def modules_loaded_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                          timeout=60)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("path", [(), *command_paths(cli)], ids=lambda p: " ".join(p) or "webhookctl")
def test_help_loads_no_aws_sdk_and_only_template_commands_load_troposphere(path):
    loaded = modules_loaded_by(*path, "--help")
    assert loaded & AWS == set()
    allowed = HEAVY if path in BUILDS_THE_TEMPLATE else set()
    assert loaded & HEAVY <= allowed


def test_dlq_stats_runs_without_loading_the_template_builder(tmp_path):
    # No region: the command gets as far as its first AWS client (its imports are done), then exits 2.
    env = {"PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "HOME": str(tmp_path)}
    loaded = modules_loaded_by("dlq", "stats", "--suffix", "prod", env=env)
    assert "webhookctl" in loaded and "botocore" in loaded
    assert loaded & HEAVY == set()


def test_the_top_level_help_lists_commands_without_importing_any():
    done = subprocess.run([sys.executable, "-c", PROBE.replace('name.split(".")[0] for name', "name for name"),
                           "--help"], capture_output=True, text=True, timeout=60)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "reconcile" in done.stdout and "Register the stack's endpoint" in done.stdout
    assert {m for m in loaded if m.startswith(("webhookctl.commands", "webhookctl.operate"))} == set()


def test_each_listed_line_is_the_commands_own_short_help():
    from webhookctl.cli import COMMANDS

    context = click.Context(cli)
    for name, (_, summary) in COMMANDS.items():
        assert cli.get_command(context, name).get_short_help_str(limit=500) == summary, name
