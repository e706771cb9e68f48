"""The two Lambda artifacts, built deterministically: the handler code zip and the dependency layer zip.

Same inputs give the same bytes (sorted entries, fixed timestamps and modes, no bytecode), whatever the
checkout's mtimes or the umask, so the content hash can name the S3 object and an unchanged artifact is
never uploaded twice. No AWS here.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

from webhookctl.edge.errors import PackagingError
from webhookctl.handlers.webhook_common.contract import names

# Lambda runs the layer on arm64 CPython 3.11 whatever machine builds it, so pip is told the target
# explicitly and may only use wheels (an sdist would compile for the build machine).
LAYER_PLATFORM = "manylinux2014_aarch64"
LAYER_IMPLEMENTATION = "cp"
LAYER_PYTHON_VERSION = "3.11"
# Each function's handler is `{name}.handler` in `{name}.py` (templates/functions.py says so too).
HANDLER_MODULES = tuple(f"{function}.py" for function in names.FUNCTIONS)
HANDLER_PACKAGES = ("webhook_common",)
EXCLUDED_PARTS = {"__pycache__"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
# Zip can't store dates before 1980; this is the conventional "no date" for reproducible archives.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
DIR_MODE = 0o040755

PipRunner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class Artifact:
    """One built zip: where it is, and the content hash that names it in S3."""

    name: str
    path: Path
    sha256: str
    size: int

    @property
    def key(self) -> str:
        return f"{self.name}/{self.sha256}.zip"


@dataclass(frozen=True)
class Artifacts:
    handlers: Artifact
    layer: Artifact

    def __iter__(self):
        return iter((self.handlers, self.layer))


@dataclass(frozen=True)
class PackageConfig:
    """Where packaging reads and caches; defaults are the installed handlers and requirements, and the
    user cache directory."""

    cache_dir: Path | None = None
    requirements: Path | None = None
    pip: PipRunner | None = None
    handlers_source: Path | None = None

    def build(self, out_dir: Path) -> Artifacts:
        """handlers.zip and layer.zip in out_dir, deterministic, the layer from the cache when it can."""
        return package_all(out_dir, cache_dir=self.cache_dir, requirements=self.requirements, pip=self.pip,
                           handlers_source=self.handlers_source)


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/webhookctl, else ~/.cache/webhookctl."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "webhookctl"


def default_requirements() -> Path:
    """The layer's requirements file as installed (works from a checkout and from a wheel)."""
    return Path(str(files("webhookctl.handlers") / "layer" / "requirements.txt"))


def package_all(output_dir: Path, cache_dir: Path | None = None, requirements: Path | None = None,
                pip: PipRunner | None = None, handlers_source: Path | None = None) -> Artifacts:
    """Both artifacts in output_dir; the layer comes from the cache when its inputs are unchanged."""
    output_dir.mkdir(parents=True, exist_ok=True)
    handlers = build_handlers_zip(output_dir / "handlers.zip", handlers_source)
    layer = build_layer_zip(output_dir / "layer.zip", requirements or default_requirements(),
                            cache_dir or default_cache_dir(), pip=pip)
    return Artifacts(handlers, layer)


# --- handlers.zip ---------------------------------------------------------------------------------

def handler_entries(root: Path) -> list[tuple[str, Path]]:
    """(archive name, file) for the handler modules and packages, as Lambda sees them at the zip root."""
    entries = []
    for module in HANDLER_MODULES:
        path = root / module
        if not path.is_file():
            raise PackagingError(f"handler module {path} is missing: the install is incomplete "
                                 "(reinstall webhookctl)")
        entries.append((module, path))
    for package in HANDLER_PACKAGES:
        package_dir = root / package
        if not package_dir.is_dir():
            raise PackagingError(f"handler package {package_dir} is missing: reinstall webhookctl")
        # Only code: the contract's JSON Schema is for readers, not for the functions.
        entries.extend(e for e in _tree_entries(package_dir, prefix=package) if e[0].endswith(".py"))
    return entries


def build_handlers_zip(dest: Path, source: Path | None = None) -> Artifact:
    """handlers.zip from the installed `webhookctl.handlers` package (or `source`, for tests)."""
    if source is not None:
        return write_zip(dest, "handlers", _read_all(handler_entries(source)))
    with as_file(files("webhookctl.handlers")) as root:
        return write_zip(dest, "handlers", _read_all(handler_entries(Path(root))))


# --- layer.zip ------------------------------------------------------------------------------------

def layer_cache_key(requirements_text: str) -> str:
    """Hash of everything that changes the layer's content: requirements, platform, Python version."""
    material = "\n".join((requirements_text, LAYER_PLATFORM, LAYER_IMPLEMENTATION, LAYER_PYTHON_VERSION,
                          "only-binary=:all:"))
    return hashlib.sha256(material.encode()).hexdigest()


def build_layer_zip(dest: Path, requirements: Path, cache_dir: Path,
                    pip: PipRunner | None = None) -> Artifact:
    """layer.zip (a `python/` tree) from the cache, or built by pip for arm64 CPython 3.11 and cached."""
    try:
        text = requirements.read_text()
    except OSError as exc:
        raise PackagingError(f"cannot read the layer requirements {requirements}: {exc.strerror}") from exc
    cached = cache_dir / "layers" / layer_cache_key(text) / "layer.zip"
    if not cached.is_file():
        _build_layer_into(cached, requirements, text, pip or _run_pip)
    if dest.resolve() != cached.resolve():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, dest)
    return _artifact("layer", dest)


def _build_layer_into(cached: Path, requirements: Path, text: str, pip: PipRunner) -> None:
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="webhookctl-layer-", dir=cached.parent) as tmp:
        target = Path(tmp) / "python"
        target.mkdir()
        if _has_requirements(text):
            _pip_install(pip, requirements, target)
        entries = [("python/", None), *_read_all(_tree_entries(target, prefix="python"))]
        staged = Path(tmp) / "layer.zip"
        write_zip(staged, "layer", entries)
        os.replace(staged, cached)  # atomic: a crash never leaves a half-written cache entry


def _has_requirements(text: str) -> bool:
    return any(line.split("#", 1)[0].strip() for line in text.splitlines())


def _pip_install(pip: PipRunner, requirements: Path, target: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-compile", "--no-input", "--target", str(target), "--platform", LAYER_PLATFORM,
               "--implementation", LAYER_IMPLEMENTATION, "--python-version", LAYER_PYTHON_VERSION,
               "--only-binary=:all:", "-r", str(requirements)]
    result = pip(command)
    if result.returncode != 0:
        raise PackagingError(describe_pip_failure(result.stderr, requirements))


def describe_pip_failure(stderr: str, requirements: Path) -> str:
    """One actionable line from pip's stderr: the requirement with no wheel, or pip's last error."""
    missing = re.search(r"No matching distribution found for (\S+)", stderr)
    if missing:
        return (f"no {LAYER_PLATFORM} / CPython {LAYER_PYTHON_VERSION} wheel for {missing.group(1)} "
                f"(from {requirements}): Lambda arm64 needs a binary or pure-Python wheel; pin a version "
                "that publishes one, or remove it")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")] or lines[-1:]
    return f"pip could not build the layer from {requirements}: {errors[-1] if errors else 'no output'}"


def _run_pip(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


# --- deterministic zips -----------------------------------------------------------------------------

def write_zip(dest: Path, name: str, entries: Iterable[tuple[str, bytes | None]]) -> Artifact:
    """A zip whose bytes depend only on names and contents (None content = directory entry)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w") as archive:
        for arcname, data in sorted(entries, key=lambda entry: entry[0]):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.create_system = 3  # unix, so external_attr carries the mode on every build host
            if data is None:
                info.external_attr = DIR_MODE << 16
                archive.writestr(info, b"")
            else:
                info.external_attr = FILE_MODE << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=9)
    return _artifact(name, dest)


def _tree_entries(directory: Path, prefix: str) -> list[tuple[str, Path]]:
    entries = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if (path.is_file() and not EXCLUDED_PARTS.intersection(relative.parts)
                and path.suffix not in EXCLUDED_SUFFIXES):
            entries.append((f"{prefix}/{relative.as_posix()}", path))
    return entries


def _read_all(entries: Iterable[tuple[str, Path | None]]) -> list[tuple[str, bytes | None]]:
    return [(name, None if path is None else path.read_bytes()) for name, path in entries]


def _artifact(name: str, path: Path) -> Artifact:
    data = path.read_bytes()
    return Artifact(name=name, path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
