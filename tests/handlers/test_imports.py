"""What the handler code may import: the standard library, its own webhook_common package, and what
handlers/layer/requirements.txt ships in the layer (the pinned boto3/botocore). Checked on the source (ast)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
REQUIREMENTS = HANDLERS / "layer" / "requirements.txt"
ENTRY_MODULES = sorted(HANDLERS.glob("*.py"))
COMMON_MODULES = sorted((HANDLERS / "webhook_common").glob("*.py"))
RUNTIME_PROVIDED = {"boto3", "botocore"}


def layer_requirements() -> dict[str, str]:
    """name -> pinned version for each requirement line."""
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-]+)", line)
            assert match, f"layer requirement {line!r} is not pinned as name==version"
            pins[match[1]] = match[2]
    return pins


def layer_top_level_modules() -> set[str]:
    """Import names the layer's distributions provide (from their installed metadata)."""
    names = set()
    for distribution in layer_requirements():
        files = metadata.distribution(distribution).files or []
        names |= {f.parts[0].removesuffix(".py") for f in files if f.parts and not f.parts[0].endswith("-info")}
    return names


def imports(path: Path) -> list[tuple[str, int]]:
    """(top-level module, relative level) for every import statement in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(((node.module or "").split(".")[0], node.level))
    return found


def test_layer_requirements_are_pinned_and_installed():
    for name, version in layer_requirements().items():
        assert metadata.version(name) == version


@pytest.mark.parametrize("path", ENTRY_MODULES, ids=lambda p: p.name)
def test_entry_modules_import_only_stdlib_runtime_common_and_layer(path):
    allowed = set(sys.stdlib_module_names) | RUNTIME_PROVIDED | {"webhook_common"} | layer_top_level_modules()
    assert sorted({m for m, _ in imports(path)} - allowed) == []


@pytest.mark.parametrize("path", COMMON_MODULES, ids=lambda p: p.name)
def test_common_modules_import_relatively_and_nothing_third_party(path):
    # Relative imports keep webhook_common importable both at the zip root and as webhookctl.handlers...
    absolute = {m for m, level in imports(path) if level == 0}
    assert "webhook_common" not in absolute
    allowed = set(sys.stdlib_module_names) | RUNTIME_PROVIDED | layer_top_level_modules()
    assert sorted(absolute - allowed) == []


@pytest.mark.parametrize("path", COMMON_MODULES, ids=lambda p: p.name)
def test_only_runtime_module_touches_boto3(path):
    # the CLI imports providers/verification/normalise/redact; they must not drag boto3 in
    uses_aws = {m for m, level in imports(path) if level == 0} & RUNTIME_PROVIDED
    assert uses_aws == (RUNTIME_PROVIDED if path.name == "runtime.py" else set())


def test_cli_can_import_the_provider_table_without_boto3():
    code = (
        "import sys, webhookctl.handlers.webhook_common.providers as p; "
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules; print(len(p.PROVIDERS))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "8"
