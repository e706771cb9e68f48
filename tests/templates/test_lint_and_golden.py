"""cfn-lint finds nothing; the same settings give the same bytes; the golden template changes only on purpose."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from webhookctl.building.render import render_template
from webhookctl.templates import Settings

GOLDEN = Path(__file__).parents[1] / "golden" / "template.json"
VARIANTS = {
    "defaults": Settings(),
    "tuned": Settings.from_overrides(
        {"trusted_cidrs": "192.0.2.0/24,198.51.100.0/24", "receiver_reserved_concurrency": "200",
         "processor_reserved_concurrency": "20", "processor_max_concurrency": "20",
         "processor_timeout": "60", "queue_visibility_timeout": "360", "waf_window_seconds": "60",
         "log_retention_days": "365", "alert_emails": "oncall@example.com,pager@example.com"},
        suffix="team-a-prod-eu1"),
}


@pytest.mark.parametrize("output_format", ["json", "yaml"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cfn_lint_reports_nothing(variant, output_format):
    body = render_template(VARIANTS[variant], output_format)
    matches = lint(body, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize("output_format", ["json", "yaml"])
def test_same_settings_same_bytes(output_format):
    assert render_template(Settings(), output_format) == render_template(Settings(), output_format)


def test_yaml_and_json_describe_the_same_template():
    from cfn_flip import to_json

    assert json.loads(to_json(render_template(Settings(), "yaml"))) == json.loads(render_template(Settings()))


def test_golden_template():
    """Regenerate on purpose with UPDATE_GOLDEN=1, and review the diff like code."""
    body = render_template(Settings(), "json")
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(body)
    assert body == GOLDEN.read_text(), "template changed: UPDATE_GOLDEN=1 pytest tests/templates, then review"


def test_the_readmes_consumer_template_lints_clean():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("in the consumer's own CloudFormation:")[1].split("```yaml\n")[1].split("```")[0]
    body = "AWSTemplateFormatVersion: '2010-09-09'\n" + block
    assert [str(m) for m in lint(body, config=ManualArgs(regions=["us-east-1"]))] == []
