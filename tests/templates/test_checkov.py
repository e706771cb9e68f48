"""checkov finds nothing to fix in the rendered stack; each check that does not apply says why, in the template.

checkov pins boto3 1.35, so it lives in its own venv (.venv/checkov, made by `make test`) and runs here as a
subprocess: once, on both variants, with no network (--skip-download, BC_SKIP_MAPPING).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from webhookctl.building.render import render_template
from webhookctl.templates import Settings

ROOT = Path(__file__).parents[2]
# `make test` sets CHECKOV_BIN, so there a missing checkov fails instead of skipping.
CHECKOV_BIN = os.environ.get("CHECKOV_BIN")
CHECKOV = Path(CHECKOV_BIN or ROOT / ".venv" / "checkov" / "bin" / "checkov")
VARIANTS = {
    "defaults": Settings(),
    "restricted": Settings.from_overrides({"provider_cidrs": "stripe,github,192.0.2.0/24", "retain_data": "true"}),
}


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory) -> dict:
    """checkov's JSON report over every variant's template, from one run."""
    if not CHECKOV.exists():
        if CHECKOV_BIN:
            pytest.fail(f"CHECKOV_BIN={CHECKOV_BIN} does not exist: run `make test` to install it")
        pytest.skip("checkov is not installed (.venv/checkov): `make test` installs it and runs this test")
    folder = tmp_path_factory.mktemp("checkov")
    files = []
    for name, settings in VARIANTS.items():
        (folder / f"{name}.json").write_text(render_template(settings, "json"))
        files += ["-f", f"{name}.json"]
    done = subprocess.run(
        [str(CHECKOV), *files, "--framework", "cloudformation", "--skip-download", "--quiet", "--compact",
         "-o", "json"],
        cwd=folder, capture_output=True, text=True, timeout=300, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1 means failed checks, reported below
    return json.loads(done.stdout)


@pytest.mark.slow
def test_checkov_parsed_every_variant(checkov_report):
    summary = checkov_report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 40 * len(VARIANTS)
    assert summary["skipped"] > 0  # the Metadata suppressions were read


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_checkov_finds_nothing_to_fix(checkov_report, variant):
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}"
              for c in checkov_report["results"]["failed_checks"] if Path(c["file_path"]).stem == variant]
    assert failed == [], "fix these, or suppress one in the resource's Metadata with a reason:\n" + "\n".join(failed)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_suppression_names_a_check_and_says_why(variant):
    resources = json.loads(render_template(VARIANTS[variant], "json"))["Resources"]
    skips = {(logical_id, skip["id"]): skip["comment"] for logical_id, resource in resources.items()
             for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}
    assert all(re.fullmatch(r"CKV_AWS_\d+", check) and len(comment) > 20 for (_, check), comment in skips.items())
    assert sorted(skips) == [
        ("ApiStage", "CKV_AWS_120"),
        ("AuditFunction", "CKV_AWS_115"), ("AuditFunction", "CKV_AWS_116"), ("AuditFunction", "CKV_AWS_117"),
        ("PostWebhookMethod", "CKV_AWS_59"),
        ("ProcessorFunction", "CKV_AWS_116"), ("ProcessorFunction", "CKV_AWS_117"),
        ("ReceiverFunction", "CKV_AWS_116"), ("ReceiverFunction", "CKV_AWS_117"),
        ("SweeperFunction", "CKV_AWS_116"), ("SweeperFunction", "CKV_AWS_117"),
    ]
