"""handlers.zip and layer.zip: deterministic bytes, the right tree, a cached layer, clear pip failures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhookctl.building.packaging import (
    LAYER_PLATFORM,
    build_handlers_zip,
    build_layer_zip,
    describe_pip_failure,
    layer_cache_key,
)
from webhookctl.cli import cli
from webhookctl.edge.errors import PackagingError

INSTALLED_HANDLERS = Path(str(files("webhookctl.handlers")))


def copy_handlers(dest: Path, mtime: float, umask: int) -> Path:
    """The handler sources as another checkout would have them: other mtimes, modes and bytecode."""
    old = os.umask(umask)
    try:
        shutil.copytree(INSTALLED_HANDLERS, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (dest / "webhook_common" / "__pycache__").mkdir()
        (dest / "webhook_common" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"bytecode")
    finally:
        os.umask(old)
    for path in dest.rglob("*"):
        os.utime(path, (mtime, mtime))
        path.chmod(0o700 if path.is_dir() else 0o600 if umask == 0o077 else 0o664)
    return dest


def with_pycs(modules: list[str]) -> list[str]:
    """The modules and the CPython 3.11 pyc packaging writes beside each, in archive order."""
    pycs = [f"{m.rpartition('/')[0]}/__pycache__/{m.rpartition('/')[2][:-3]}.cpython-311.pyc".lstrip("/")
            for m in modules]
    return sorted([*modules, *pycs])


def shared_names(root: Path) -> list[str]:
    """The layer's copy of webhook_common: its code (and pycs), not the schema or the checkout's bytecode."""
    return with_pycs([f"python/{p.relative_to(root).as_posix()}" for p in (root / "webhook_common").rglob("*.py")
                      if "__pycache__" not in p.parts])


def test_handlers_zip_is_byte_identical_whatever_the_mtimes_and_umask(tmp_path: Path) -> None:
    # GIVEN two copies of the handlers with different mtimes, modes, umask and stray bytecode
    first = copy_handlers(tmp_path / "a", mtime=1_000_000_000, umask=0o022)
    second = copy_handlers(tmp_path / "b", mtime=1_700_000_000, umask=0o077)
    # WHEN both are zipped, and the installed package too
    a = build_handlers_zip(tmp_path / "a.zip", first)
    b = build_handlers_zip(tmp_path / "b.zip", second)
    installed = build_handlers_zip(tmp_path / "installed.zip")
    # THEN the bytes (so the S3 key) are the same
    assert a.sha256 == b.sha256 == installed.sha256
    assert a.key == f"handlers/{a.sha256}.zip"
    assert a.path.read_bytes() == b.path.read_bytes()


def test_handlers_zip_holds_the_modules_at_the_root_and_nothing_else(tmp_path: Path) -> None:
    artifact = build_handlers_zip(tmp_path / "h.zip", copy_handlers(tmp_path / "src", 0, 0o022))
    with zipfile.ZipFile(artifact.path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == with_pycs(["audit.py", "processor.py", "receiver.py", "sweeper.py"])
    assert {(i.date_time, i.external_attr >> 16, i.create_system) for i in infos} == {
        ((1980, 1, 1, 0, 0, 0), 0o100644, 3)}


def test_a_changed_handler_changes_the_hash(tmp_path: Path) -> None:
    source = copy_handlers(tmp_path / "src", 0, 0o022)
    before = build_handlers_zip(tmp_path / "1.zip", source)
    with (source / "receiver.py").open("a") as handle:
        handle.write("\n# changed\n")
    after = build_handlers_zip(tmp_path / "2.zip", source)
    assert before.sha256 != after.sha256


def test_missing_handler_module_is_a_packaging_error(tmp_path: Path) -> None:
    source = copy_handlers(tmp_path / "src", 0, 0o022)
    (source / "audit.py").unlink()
    with pytest.raises(PackagingError, match=r"handler module .*audit\.py is missing"):
        build_handlers_zip(tmp_path / "h.zip", source)


# --- layer ------------------------------------------------------------------------------------------

class FakePip:
    """Records pip commands; 'installs' one file per requirement into --target."""

    def __init__(self, returncode: int = 0, stderr: str = "") -> None:
        self.calls: list[list[str]] = []
        self.returncode, self.stderr = returncode, stderr

    def __call__(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(command))
        target = Path(command[command.index("--target") + 1])
        requirements = Path(command[command.index("-r") + 1]).read_text().split()
        for name in requirements:
            (target / f"{name.split('==')[0]}.py").write_text(f"# {name}\n")
        return subprocess.CompletedProcess(command, self.returncode, "", self.stderr)


def test_empty_requirements_give_a_valid_layer_without_running_pip(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing\n\n")
    pip = FakePip()
    layer = build_layer_zip(tmp_path / "layer.zip", requirements, tmp_path / "cache", pip=pip)
    with zipfile.ZipFile(layer.path) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["python/", *shared_names(INSTALLED_HANDLERS)]
    assert pip.calls == []


def test_layer_is_built_once_per_requirements_and_then_served_from_the_cache(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\n")
    pip = FakePip()
    first = build_layer_zip(tmp_path / "1.zip", requirements, tmp_path / "cache", pip=pip)
    second = build_layer_zip(tmp_path / "2.zip", requirements, tmp_path / "cache", pip=pip)
    assert len(pip.calls) == 1
    assert first.sha256 == second.sha256
    assert (tmp_path / "cache" / "layers" / layer_cache_key("six==1.16.0\n") / "sdk.zip").is_file()
    requirements.write_text("six==1.15.0\n")
    third = build_layer_zip(tmp_path / "3.zip", requirements, tmp_path / "cache", pip=pip)
    assert len(pip.calls) == 2
    assert third.sha256 != first.sha256


def test_layer_zip_is_byte_identical_whatever_the_umask(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\nattrs==23.2.0\n")
    built = []
    for n, umask in enumerate((0o022, 0o077)):
        old = os.umask(umask)
        try:
            built.append(build_layer_zip(tmp_path / f"{n}.zip", requirements, tmp_path / f"cache-{n}", pip=FakePip()))
        finally:
            os.umask(old)
    assert built[0].sha256 == built[1].sha256
    with zipfile.ZipFile(built[0].path) as archive:
        assert archive.namelist() == ["python/", "python/__pycache__/attrs.cpython-311.pyc",
                                      "python/__pycache__/six.cpython-311.pyc", "python/attrs.py", "python/six.py",
                                      *shared_names(INSTALLED_HANDLERS)]


def test_pip_is_asked_for_arm64_cpython311_binary_wheels_only(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\n")
    pip = FakePip()
    build_layer_zip(tmp_path / "layer.zip", requirements, tmp_path / "cache", pip=pip)
    command = pip.calls[0]
    assert command[1:4] == ["-m", "pip", "install"]
    for flag, value in (("--platform", LAYER_PLATFORM), ("--implementation", "cp"),
                        ("--python-version", "3.11"), ("-r", str(requirements))):
        assert command[command.index(flag) + 1] == value
    assert "--only-binary=:all:" in command


def test_a_requirement_without_a_wheel_is_an_error_naming_it(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("sdist-only==1.0\n")
    stderr = ("ERROR: Could not find a version that satisfies the requirement sdist-only==1.0 (from versions: "
              "none)\nERROR: No matching distribution found for sdist-only==1.0\n")
    with pytest.raises(PackagingError) as caught:
        build_layer_zip(tmp_path / "layer.zip", requirements, tmp_path / "cache", pip=FakePip(1, stderr))
    assert str(caught.value).startswith(f"no {LAYER_PLATFORM} / CPython 3.11 wheel for sdist-only==1.0 (from ")
    assert not (tmp_path / "cache" / "layers" / layer_cache_key("sdist-only==1.0\n") / "sdk.zip").exists()


def test_other_pip_failures_quote_pips_last_error() -> None:
    message = describe_pip_failure("Collecting x\nERROR: Invalid requirement: 'x==='\n", Path("r.txt"))
    assert message == "pip could not build the layer from r.txt: ERROR: Invalid requirement: 'x==='"


@pytest.fixture(scope="session")
def real_layer(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A layer pip really builds (one pure and one binary wheel), cached across runs in .pytest_cache."""
    requirements = tmp_path_factory.mktemp("req") / "requirements.txt"
    requirements.write_text("six==1.16.0\nmarkupsafe==2.1.5\n")
    pytest_cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = Path(pytest_cache.mkdir("webhookctl-layers")) if pytest_cache else tmp_path_factory.mktemp("cache")
    try:
        return build_layer_zip(tmp_path_factory.mktemp("layer") / "layer.zip", requirements, cache).path
    except PackagingError as exc:
        pytest.skip(f"pip could not reach a package index to build a real layer: {exc}")


def test_real_layer_has_the_python_prefix_and_only_arm64_cp311_or_pure_wheels(real_layer: Path) -> None:
    with zipfile.ZipFile(real_layer) as archive:
        names = archive.namelist()
        tags = {line.split(": ", 1)[1] for name in names if name.endswith(".dist-info/WHEEL")
                for line in archive.read(name).decode().splitlines() if line.startswith("Tag: ")}
    assert all(name.startswith("python/") for name in names)
    assert "python/six.py" in names and "python/markupsafe/__init__.py" in names
    assert "python/__pycache__/six.cpython-311.pyc" in names  # written here, none of pip's own
    assert tags and all(tag.endswith("-none-any") or (tag.startswith("cp311-cp311-") and tag.endswith("_aarch64"))
                        for tag in tags), tags
    assert any(tag.endswith("_aarch64") for tag in tags)


def test_package_command_prints_both_artifacts_without_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from webhookctl.building.packaging import PackageConfig
    from webhookctl.edge.context import AppContext

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    app = AppContext(packaging=PackageConfig(cache_dir=tmp_path / "cache", requirements=requirements))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")  # would break any AWS call; package makes none
    result = CliRunner().invoke(cli, ["package", "--output", str(tmp_path / "out"), "--format", "json"], obj=app)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["name"], Path(r["path"]).name) for r in rows] == [("handlers", "handlers.zip"), ("layer", "layer.zip")]
    for row in rows:
        assert row["size"] == Path(row["path"]).stat().st_size
        assert row["key"] == f"{row['name']}/{row['sha256']}.zip"
