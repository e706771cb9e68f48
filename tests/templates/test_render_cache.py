"""A warm `render` reads back the bytes a cold one made, and only while the code that made them is unchanged."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhookctl.building.render import render_template
from webhookctl.building.render_cache import RENDER_PACKAGES, cached_render, loaded_sources
from webhookctl.cli import cli
from webhookctl.templates import Settings


class Renders:
    """A render function that counts its calls."""

    def __init__(self, body: str) -> None:
        self.body, self.calls = body, 0

    def __call__(self) -> str:
        self.calls += 1
        return self.body


@pytest.mark.parametrize("args", [[], ["--format", "json"], ["--suffix", "prod", "--set", "processor_batch_size=5"]])
def test_a_warm_render_prints_the_same_bytes_as_a_fresh_one(args: list[str], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fresh = CliRunner().invoke(cli, ["render", "--no-cache", *args])
    cold, warm = (CliRunner().invoke(cli, ["render", *args]) for _ in range(2))
    assert fresh.exit_code == cold.exit_code == warm.exit_code == 0, fresh.output
    assert fresh.stdout == cold.stdout == warm.stdout
    assert len(list((tmp_path / "webhookctl" / "render").glob("*.txt"))) == 1
    assert not list((tmp_path / "webhookctl" / "render").glob("*.tmp"))


def test_other_settings_or_another_format_are_other_entries(tmp_path: Path) -> None:
    defaults, other = Settings(), Settings(processor_batch_size=5)
    bodies = {render_template(s, f, cache_dir=tmp_path) for s in (defaults, other) for f in ("json", "yaml")}
    assert len(bodies) == 4 and len(list((tmp_path / "render").glob("*.txt"))) == 4
    assert render_template(other, "yaml", cache_dir=tmp_path) == render_template(other, "yaml")


def test_an_entry_is_served_until_a_module_it_was_made_with_changes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a module loaded while the entry is made
    module = tmp_path / "src" / "render_cache_probe.py"
    module.parent.mkdir()
    module.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(module.parent))
    monkeypatch.setitem(sys.modules, "render_cache_probe", None)  # (the test's end takes it out again)
    del sys.modules["render_cache_probe"]
    importlib.import_module("render_cache_probe")
    packages = {"render_cache_probe"}
    assert loaded_sources(packages) == [str(module)]
    first, second = Renders("made with 1"), Renders("made with 2")
    assert cached_render("settings", "yaml", first, tmp_path, packages) == "made with 1"
    # WHEN nothing changed, the entry is served; once the module changes, it is made again
    assert cached_render("settings", "yaml", second, tmp_path, packages) == "made with 1" and second.calls == 0
    module.write_text("VALUE = 22\n")
    assert cached_render("settings", "yaml", second, tmp_path, packages) == "made with 2" and second.calls == 1


def test_a_corrupt_entry_is_rendered_afresh_and_an_unwritable_cache_costs_only_speed(tmp_path: Path) -> None:
    assert cached_render("s", "json", Renders("one"), tmp_path) == "one"
    [entry] = (tmp_path / "render").glob("*.txt")
    key, count, *_ = entry.read_text().split("\n")
    for torn in ("", "{not an entry", f"{key}\n{count}\n", f"{key}\n{int(count) + 5}\nlast words"):
        entry.write_text(torn)
        assert cached_render("s", "json", Renders("two"), tmp_path) == "two"
        assert entry.read_text().endswith("\ntwo")
    blocked = tmp_path / "file"
    blocked.write_text("")
    renders = Renders("three")
    assert cached_render("s", "json", renders, blocked) == "three"
    assert cached_render("s", "json", renders, blocked) == "three" and renders.calls == 2


def test_a_warm_render_loads_no_template_library_nor_what_only_a_miss_or_a_config_needs(tmp_path: Path) -> None:
    code = ("import sys; from webhookctl.cli import cli\n"
            "try: cli(['render', '--format', 'json'])\n"
            "except SystemExit as done: assert done.code == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}\n"
            "             & {'troposphere', 'awacs', 'cfn_flip', 'yaml', 'hashlib', 'tomllib', 'tempfile'}),"
            " file=sys.stderr)")
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                           timeout=60) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stderr.strip() == "['awacs', 'cfn_flip', 'hashlib', 'tempfile', 'troposphere', 'yaml']"
    assert runs[1].stderr.strip() == "[]"


def test_an_entry_gives_back_exactly_the_text_it_was_given(tmp_path: Path) -> None:
    body = "line one\r\nline two\n\n\nno newline at the end: é ✓"
    assert cached_render("s", "yaml", Renders(body), tmp_path) == body
    assert cached_render("s", "yaml", Renders("other"), tmp_path) == body


def test_entries_under_one_file_name_are_told_apart_by_their_whole_key(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("webhookctl.building.render_cache.zlib.crc32", lambda data: 7)
    assert cached_render("a", "yaml", Renders("for a"), tmp_path) == "for a"
    assert cached_render("b", "yaml", Renders("for b"), tmp_path) == "for b"
    assert cached_render("a", "yaml", Renders("for a, again"), tmp_path) == "for a, again"


def test_a_fresh_render_reads_no_package_outside_those_its_entries_watch() -> None:
    code = ("import json, os, sys\n"
            "from webhookctl.building.render import _render, load_settings\n"
            "settings, before = load_settings('dev', {}), set(sys.modules)\n"
            "_render(settings, 'yaml'); _render(settings, 'json')\n"
            "stdlib = os.path.dirname(os.__file__)\n"
            "print(json.dumps(sorted({name.partition('.')[0] for name in set(sys.modules) - before\n"
            "      if not (getattr(sys.modules[name], '__file__', None) or stdlib).startswith(stdlib)})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    read = set(json.loads(done.stdout))
    assert read and read <= RENDER_PACKAGES, read - RENDER_PACKAGES


def test_only_the_newest_entries_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("webhookctl.building.render_cache.KEPT_ENTRIES", 3)
    (tmp_path / "render").mkdir()
    older_format = tmp_path / "render" / ("0" * 64 + ".json")  # a version-1 entry
    older_format.write_text("{}")
    in_progress = tmp_path / "render" / "another-render.tmp"
    in_progress.write_text("")
    for n in range(5):
        cached_render(f"settings {n}", "json", Renders(f"body {n}"), tmp_path)
        time.sleep(0.01)  # distinct mtimes, whatever the file system's resolution
    assert len(list((tmp_path / "render").glob("*.txt"))) == 3
    assert not older_format.exists() and in_progress.exists()
    assert [cached_render(f"settings {n}", "json", Renders("afresh"), tmp_path) for n in (4, 3, 2)] == [
        "body 4", "body 3", "body 2"]
    assert cached_render("settings 0", "json", Renders("afresh"), tmp_path) == "afresh"
