"""The two Lambda artifacts, built deterministically: the handler code zip and the layer zip.

handlers.zip holds only the entry modules; the layer holds what they share: `webhook_common` and the pinned
boto3/botocore the tests ran with, so a function never runs on whichever SDK the Lambda runtime ships this week.
Same inputs give the same bytes (sorted entries, fixed timestamps and modes, no bytecode), whatever the
checkout's mtimes or the umask, so the content hash can name the S3 object and an unchanged artifact is
never uploaded twice. No AWS here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from importlib.resources import as_file, files
from pathlib import Path

from webhookctl.edge.cache import default_cache_dir
from webhookctl.edge.errors import PackagingError
from webhookctl.handlers.webhook_common.contract import names

# Lambda runs the layer on arm64 CPython 3.11 whatever machine builds it, so pip is told the target
# explicitly and may only use wheels (an sdist would compile for the build machine).
LAYER_PLATFORM = "manylinux2014_aarch64"
LAYER_IMPLEMENTATION = "cp"
LAYER_PYTHON_VERSION = "3.11"
# Each function's handler is `{name}.handler` in `{name}.py` (templates/functions.py says so too).
HANDLER_MODULES = tuple(f"{function}.py" for function in names.FUNCTIONS)
# Shared by every function, so shipped once in the layer (Lambda puts /opt/python on sys.path).
LAYER_PACKAGES = ("webhook_common",)
# botocore carries ~400 service models (30 MB); the functions need their own few and the top-level data files.
SDK_MODEL_DIRS = ("botocore/data/", "boto3/data/")
# Of each distribution's metadata only what names it: RECORD's hashes would list the trimmed models.
KEPT_DIST_INFO = ("METADATA", "WHEEL")
EXCLUDED_PARTS = {"__pycache__"}  # the checkout's or the environment's own bytecode: with_bytecode writes it
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
# Zip can't store dates before 1980; this is the conventional "no date" for reproducible archives.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
DIR_MODE = 0o040755

PipRunner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
# name, version -> that distribution as installed here, or None if this environment does not hold it.
InstalledFinder = Callable[[str, str], "metadata.Distribution | None"]


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

    installed: InstalledFinder | None = None

    def build(self, out_dir: Path) -> Artifacts:
        """handlers.zip and layer.zip in out_dir, deterministic, the layer from the cache when it can."""
        return package_all(out_dir, cache_dir=self.cache_dir, requirements=self.requirements, pip=self.pip,
                           handlers_source=self.handlers_source, installed=self.installed)


def default_requirements() -> Path:
    """The layer's requirements file as installed (works from a checkout and from a wheel)."""
    return Path(str(files("webhookctl.handlers") / "layer" / "requirements.txt"))


def package_all(output_dir: Path, cache_dir: Path | None = None, requirements: Path | None = None,
                pip: PipRunner | None = None, handlers_source: Path | None = None,
                installed: InstalledFinder | None = None) -> Artifacts:
    """Both artifacts in output_dir; the layer comes from the cache when its inputs are unchanged."""
    output_dir.mkdir(parents=True, exist_ok=True)
    handlers = build_handlers_zip(output_dir / "handlers.zip", handlers_source, cache_dir)
    layer = build_layer_zip(output_dir / "layer.zip", requirements or default_requirements(),
                            cache_dir or default_cache_dir(), pip=pip, shared_source=handlers_source,
                            installed=installed)
    return Artifacts(handlers, layer)


# --- handlers.zip ---------------------------------------------------------------------------------

def handler_entries(root: Path) -> list[tuple[str, Path]]:
    """(archive name, file) for the entry modules, as Lambda sees them at the zip root."""
    entries = []
    for module in HANDLER_MODULES:
        path = root / module
        if not path.is_file():
            raise PackagingError(f"handler module {path} is missing: the install is incomplete "
                                 "(reinstall webhookctl)")
        entries.append((module, path))
    return entries


def shared_entries(root: Path) -> list[tuple[str, Path]]:
    """(archive name, file) for the packages every function imports, under the layer's `python/`."""
    entries = []
    for package in LAYER_PACKAGES:
        package_dir = root / package
        if not package_dir.is_dir():
            raise PackagingError(f"handler package {package_dir} is missing: reinstall webhookctl")
        # Only code: the contract's JSON Schema is for readers, not for the functions.
        entries.extend(e for e in _tree_entries(package_dir, prefix=f"python/{package}") if e[0].endswith(".py"))
    return entries


def build_handlers_zip(dest: Path, source: Path | None = None, cache_dir: Path | None = None) -> Artifact:
    """handlers.zip from the installed `webhookctl.handlers` package (or `source`, for tests)."""
    with _handlers_root(source) as root:
        entries = with_bytecode(_read_all(handler_entries(root)), cache_dir or default_cache_dir(), mount="/var/task")
        return write_zip(dest, "handlers", entries)


@contextlib.contextmanager
def _handlers_root(source: Path | None) -> Iterator[Path]:
    if source is not None:
        yield source
        return
    with as_file(files("webhookctl.handlers")) as root:
        yield Path(root)


# --- layer.zip ------------------------------------------------------------------------------------

def layer_cache_key(requirements_text: str) -> str:
    """Hash of everything that changes the layer's SDK part: requirements, platform, Python, trimmed models."""
    material = "\n".join((requirements_text, LAYER_PLATFORM, LAYER_IMPLEMENTATION, LAYER_PYTHON_VERSION,
                          "only-binary=:all:", *names.SDK_SERVICES, f"pyc={_bytecode_tag()}"))
    return hashlib.sha256(material.encode()).hexdigest()


def build_layer_zip(dest: Path, requirements: Path, cache_dir: Path, pip: PipRunner | None = None,
                    shared_source: Path | None = None, installed: InstalledFinder | None = None) -> Artifact:
    """layer.zip: a `python/` tree of the shared handler code and the pinned SDK, from the cache when it can."""
    try:
        text = requirements.read_text()
    except OSError as exc:
        raise PackagingError(f"cannot read the layer requirements {requirements}: {exc.strerror}") from exc
    sdk = _cached_sdk(cache_dir, requirements, text, pip or _run_pip, installed or installed_distribution)
    with _handlers_root(shared_source) as root:
        shared = with_bytecode(_read_all(shared_entries(root)), cache_dir)
    digest = hashlib.sha256(sdk.sha256.encode())
    for name, data in shared:
        digest.update(name.encode() + b"\0" + (data or b"") + b"\0")
    cached = cache_dir / "layers" / digest.hexdigest() / "layer.zip"
    if not cached.is_file():
        _write_atomically(cached, "layer", [("python/", None), *_zip_entries(sdk.path), *shared])
    if dest.resolve() != cached.resolve():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, dest)
    return _artifact("layer", dest)


def _cached_sdk(cache_dir: Path, requirements: Path, text: str, pip: PipRunner,
                installed: InstalledFinder) -> Artifact:
    """The SDK part of the layer, trimmed: copied from this environment when it holds exactly the pinned pure
    wheels (after `make`, it does: offline, and the very files the tests ran), else installed by pip."""
    cached = cache_dir / "layers" / layer_cache_key(text) / "sdk.zip"
    if not cached.is_file():
        pins = exact_pins(text)
        local = [installed(name, version) for name, version in pins.items()] if pins is not None else [None]
        if _has_requirements(text) and all(local):
            entries = [entry for dist in local for entry in _distribution_entries(dist)]
        else:
            entries = _pip_entries(pip, requirements, text, cached.parent)
        _write_atomically(cached, "sdk", with_bytecode([e for e in entries if _kept_in_layer(e[0])], cache_dir))
    return _artifact("sdk", cached)


# Lambda mounts the code and its layers read-only, so Python cannot cache what it compiles: without .pycs every cold
# start compiles botocore from source (~180 ms more to a first client). Hash-based, unchecked pycs are the
# reproducible kind (no mtimes; a content-addressed layer never changes under them), compiled with a fixed hash
# seed because marshal writes frozenset constants in hash order.
COMPILE_PYCS = """
import json, py_compile, sys
for source, pyc, shown in json.load(sys.stdin):
    try:
        py_compile.compile(source, pyc, shown, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        pass  # a module for another Python version: it stays source only
"""


def _bytecode_tag() -> str:
    """Which pycs with_bytecode writes here (a layer built elsewhere has none, and must not be served for one)."""
    return "unchecked-hash-cpython-311" if sys.version_info[:2] == (3, 11) and \
        sys.implementation.name == "cpython" else "none"


def with_bytecode(entries: list[tuple[str, bytes | None]], cache_dir: Path,
                  mount: str = "/opt") -> list[tuple[str, bytes | None]]:
    """ENTRIES plus a CPython 3.11 .pyc beside each module (only a 3.11 interpreter writes ones Lambda reads),
    each compiled once and kept by content in CACHE_DIR; MOUNT is where Lambda unpacks the zip (tracebacks)."""
    if _bytecode_tag() == "none":
        return entries
    wanted: dict[Path, tuple[str, str, bytes]] = {}  # cached pyc -> (archive name, path shown, source)
    for name, data in entries:
        if name.endswith(".py") and data is not None:
            shown = f"{mount}/{name}"
            key = hashlib.sha256(b"\0".join((_bytecode_tag().encode(), shown.encode(), data))).hexdigest()
            folder, _, module = name.rpartition("/")
            pyc = f"{folder}/__pycache__/{module[:-3]}.{sys.implementation.cache_tag}.pyc".lstrip("/")
            wanted[cache_dir / "pyc" / f"{key}.pyc"] = (pyc, shown, data)
    missing = [cached for cached in wanted if not cached.is_file()]
    if missing:
        _compile({cached: wanted[cached] for cached in missing}, cache_dir / "pyc")
    return [*entries, *((wanted[cached][0], cached.read_bytes()) for cached in wanted if cached.is_file())]


def _compile(jobs: dict[Path, tuple[str, str, bytes]], store: Path) -> None:
    """One interpreter compiles every job; each pyc lands in STORE atomically."""
    store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="webhookctl-pyc-", dir=store) as tmp:
        work = []
        for index, (cached, (_, shown, data)) in enumerate(jobs.items()):
            source = Path(tmp) / f"{index}.py"
            source.write_bytes(data)
            work.append((cached, str(source), str(Path(tmp) / f"{index}.pyc"), shown))
        subprocess.run([sys.executable, "-I", "-c", COMPILE_PYCS], check=True, text=True,
                       input=json.dumps([job[1:] for job in work]), env={"PYTHONHASHSEED": "0"})
        for cached, _, compiled, _ in work:
            if Path(compiled).is_file():
                os.replace(compiled, cached)


def exact_pins(text: str) -> dict[str, str] | None:
    """name -> version if every requirement is pinned as name==version (None otherwise: pip decides)."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-]+)", line)
            if not match:
                return None
            pins[match[1]] = match[2]
    return pins


def installed_distribution(name: str, version: str) -> metadata.Distribution | None:
    """NAME at exactly VERSION as a pure-Python wheel in this environment (so its files suit any platform)."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    wheel = dist.read_text("WHEEL") or ""
    return dist if dist.version == version and "Root-Is-Purelib: true" in wheel else None


def _distribution_entries(dist: metadata.Distribution) -> list[tuple[str, bytes | None]]:
    entries = []
    for file in dist.files or []:
        if file.parts[0] == ".." or EXCLUDED_PARTS.intersection(file.parts) or file.suffix in EXCLUDED_SUFFIXES:
            continue  # scripts outside site-packages, and bytecode
        entries.append((f"python/{file.as_posix()}", Path(str(dist.locate_file(file))).read_bytes()))
    return entries


def _pip_entries(pip: PipRunner, requirements: Path, text: str, workdir: Path) -> list[tuple[str, bytes | None]]:
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="webhookctl-layer-", dir=workdir) as tmp:
        target = Path(tmp) / "python"
        target.mkdir()
        if _has_requirements(text):
            _pip_install(pip, requirements, target)
        return _read_all(_tree_entries(target, prefix="python"))


def _kept_in_layer(name: str) -> bool:
    """Everything but other services' models and the metadata no import reads."""
    path = name.removeprefix("python/")
    head, _, rest = path.partition("/")
    if head.endswith(".dist-info"):
        return rest in KEPT_DIST_INFO
    for models in SDK_MODEL_DIRS:
        if path.startswith(models):
            service = path.removeprefix(models).split("/", 1)
            return len(service) == 1 or service[0] in names.SDK_SERVICES
    return head != "bin"


def _zip_entries(path: Path) -> list[tuple[str, bytes | None]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, None if info.is_dir() else archive.read(info)) for info in archive.infolist()]


def _write_atomically(cached: Path, name: str, entries: list[tuple[str, bytes | None]]) -> None:
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="webhookctl-layer-", dir=cached.parent) as tmp:
        staged = Path(tmp) / cached.name
        write_zip(staged, name, entries)
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
