"""Rendering remembered: the same settings with the same code give the same bytes, so a warm `render` reads them
back instead of importing troposphere and awacs (two thirds of a render's time).

An entry is valid while every non-stdlib module file that was loaded when it was made still has the same
mtime and size, the check CPython itself makes before trusting a .pyc; the key holds the settings, the format
and the interpreter. Templates are pure (no I/O), so their modules are all they read.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

FORMAT_VERSION = "1"


def cached_render(identity: str, output_format: str, render: Callable[[], str], cache_dir: Path) -> str:
    """The text render() gives for these settings (IDENTITY: their repr), from the cache while still valid."""
    key = hashlib.sha256("\0".join((FORMAT_VERSION, sys.version, output_format, identity)).encode()).hexdigest()
    entry = cache_dir / "render" / f"{key}.json"
    body = _valid_body(entry)
    if body is None:
        body = render()
        _store(entry, body)
    return body


def _valid_body(entry: Path) -> str | None:
    try:
        stored = json.loads(entry.read_text())
        if all(_stamp(path) == stamp for path, stamp in stored["sources"].items()):
            return stored["body"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent, unreadable or from another version: render afresh
    return None


def _store(entry: Path, body: str) -> None:
    """Written atomically; a cache that cannot be written only costs the next render its speed."""
    import tempfile  # only a miss pays for it (it imports random and shutil)

    document = json.dumps({"sources": {path: _stamp(path) for path in loaded_sources()}, "body": body})
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=entry.parent, delete=False, suffix=".tmp") as handle:
            handle.write(document)
        os.replace(handle.name, entry)
    except OSError:
        pass


def loaded_sources() -> list[str]:
    """Every loaded module's file outside the standard library (the interpreter's version is in the key)."""
    stdlib = os.path.dirname(os.__file__) + os.sep  # lib-dynload lies inside it
    files = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
    return sorted(f for f in files if f and not f.startswith(stdlib))


def _stamp(path: str) -> list[int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size]
