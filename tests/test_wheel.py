"""A wheel from `pip wheel .` carries everything render and deploy need, under the webhookctl name only."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools leaves build/ and *.egg-info next to the sources it builds.
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("webhookctl", "templates", "handlers"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
                   check=True, capture_output=True, timeout=300)
    (built,) = out.glob("webhookctl-*.whl")
    return built


def test_only_the_webhookctl_name_is_installed(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["webhookctl"]
    (metadata,) = {n.split("/")[0] for n in names} - {"webhookctl"}
    assert metadata.endswith(".dist-info")


def test_handler_sources_layer_requirements_and_templates_ship(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"webhookctl/handlers/{p.relative_to(ROOT / 'handlers')}"
                for p in (ROOT / "handlers").rglob("*") if p.suffix == ".py" and "__pycache__" not in p.parts}
    expected |= {f"webhookctl/templates/{p.name}" for p in (ROOT / "templates").glob("*.py")}
    expected.add("webhookctl/handlers/layer/requirements.txt")
    assert expected <= names


def test_the_installed_wheel_renders_and_packages(wheel: Path, tmp_path: Path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import webhookctl; "
            "assert webhookctl.__file__.startswith(sys.argv[1]), webhookctl.__file__; "
            "from webhookctl.cli import cli; cli(sys.argv[2:])")
    out = tmp_path / "artifacts"
    render = subprocess.run([sys.executable, "-c", code, str(target), "render", "--format", "json"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert render.returncode == 0, render.stderr
    assert '"PaymentWebhooks-dev"' in render.stdout
    package = subprocess.run([sys.executable, "-c", code, str(target), "package", "--output", str(out)],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path,
                             env={"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "cache"),
                                  "HOME": str(tmp_path)})
    assert package.returncode == 0, package.stderr
    with zipfile.ZipFile(out / "handlers.zip") as handlers:
        assert [n for n in handlers.namelist() if n.endswith(".py")] == ["audit.py", "processor.py", "receiver.py",
                                                                         "sweeper.py"]
    with zipfile.ZipFile(out / "layer.zip") as layer:
        assert {"python/webhook_common/providers.py", "python/boto3/__init__.py"} <= set(layer.namelist())
