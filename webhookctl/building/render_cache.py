"""Rendering remembered: the same settings with the same code give the same bytes, so a warm `render` reads them
back instead of importing troposphere and awacs (two thirds of a render's time).

An entry is valid while every module file of the packages a render reads (ours, troposphere, awacs and the YAML
emitter) still has the mtime and size it had when the entry was made, the check CPython itself makes before
trusting a .pyc; the key holds the settings, the format and the interpreter. Templates are pure (no I/O), so
their modules are all they read. The entry is plain text, so reading one imports neither json nor hashlib.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Callable, Collection
from pathlib import Path

FORMAT_VERSION = "2"
KEPT_ENTRIES = 32  # the newest; older ones are deleted as new ones are written (tests write many variants)
# The top-level packages whose code decides a template's bytes; tests/templates/test_render_cache.py checks a
# fresh render loads no other package from outside the standard library.
RENDER_PACKAGES = frozenset({"webhookctl", "troposphere", "awacs", "cfn_flip", "cfn_clean", "cfn_tools", "yaml",
                             "six"})


def cached_render(identity: str, output_format: str, render: Callable[[], str], cache_dir: Path,
                  packages: Collection[str] = RENDER_PACKAGES) -> str:
    """The text render() gives for these settings (IDENTITY: their repr), from the cache while still valid."""
    key = "\0".join((FORMAT_VERSION, sys.version, output_format, identity)).replace("\n", " ")
    entry = cache_dir / "render" / f"{zlib.crc32(key.encode()):08x}-{len(key)}.txt"
    body = _valid_body(entry, key)
    if body is None:
        body = render()
        _store(entry, key, body, loaded_sources(packages))
    return body


def _valid_body(entry: Path, key: str) -> str | None:
    """The body, if ENTRY was made for KEY and none of its sources changed since."""
    try:
        stored_key, count, rest = entry.read_bytes().decode("utf-8").split("\n", 2)
        *stamps, body = rest.split("\n", int(count))
        if stored_key != key or len(stamps) != int(count):
            return None  # another key under the same name, or a torn file
        for line in stamps:
            mtime, size, path = line.split(" ", 2)
            if _stamp(path) != f"{mtime} {size}":
                return None
    except (OSError, ValueError):
        return None  # absent, unreadable or from another version: render afresh
    return body


def _store(entry: Path, key: str, body: str, sources: list[str]) -> None:
    """Written atomically; a cache that cannot be written only costs the next render its speed."""
    import tempfile  # only a miss pays for it (it imports random and shutil)

    stamps = [f"{_stamp(path)} {path}" for path in sources if "\n" not in path]
    document = "\n".join([key, str(len(stamps)), *stamps, body])
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=entry.parent, delete=False,
                                         suffix=".tmp") as handle:
            handle.write(document)
        os.replace(handle.name, entry)
        _forget_all_but_newest(entry.parent, KEPT_ENTRIES)
    except OSError:
        pass


def _forget_all_but_newest(folder: Path, kept: int) -> None:
    """Entries of this format and older ones alike (a .tmp is another render's write in progress)."""
    entries = sorted((path for path in folder.iterdir() if path.suffix != ".tmp"),
                     key=lambda path: path.stat().st_mtime_ns, reverse=True)
    for stale in entries[kept:]:
        stale.unlink(missing_ok=True)


def loaded_sources(packages: Collection[str] = RENDER_PACKAGES) -> list[str]:
    """The file of every loaded module of PACKAGES (top-level names)."""
    files = {getattr(module, "__file__", None) for name, module in list(sys.modules.items())
             if name.partition(".")[0] in packages}
    return sorted(f for f in files if f)


def _stamp(path: str) -> str:
    try:
        status = os.stat(path)
    except OSError:
        return "- -"
    return f"{status.st_mtime_ns} {status.st_size}"
