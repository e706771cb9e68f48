"""A warm `render` reads back the bytes a cold one made, and only while the code that made them is unchanged."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhookctl.building.render import render_template
from webhookctl.building.render_cache import cached_render, loaded_sources
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
    assert len(list((tmp_path / "webhookctl" / "render").glob("*.json"))) == 1
    assert not list((tmp_path / "webhookctl" / "render").glob("*.tmp"))


def test_other_settings_or_another_format_are_other_entries(tmp_path: Path) -> None:
    defaults, other = Settings(), Settings(processor_batch_size=5)
    bodies = {render_template(s, f, cache_dir=tmp_path) for s in (defaults, other) for f in ("json", "yaml")}
    assert len(bodies) == 4 and len(list((tmp_path / "render").glob("*.json"))) == 4
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
    assert str(module) in loaded_sources()
    first, second = Renders("made with 1"), Renders("made with 2")
    assert cached_render("settings", "yaml", first, tmp_path) == "made with 1"
    # WHEN nothing changed, the entry is served; once the module changes, it is made again
    assert cached_render("settings", "yaml", second, tmp_path) == "made with 1" and second.calls == 0
    module.write_text("VALUE = 22\n")
    assert cached_render("settings", "yaml", second, tmp_path) == "made with 2" and second.calls == 1


def test_a_corrupt_entry_is_rendered_afresh_and_an_unwritable_cache_costs_only_speed(tmp_path: Path) -> None:
    assert cached_render("s", "json", Renders("one"), tmp_path) == "one"
    [entry] = (tmp_path / "render").glob("*.json")
    entry.write_text("{not json")
    assert cached_render("s", "json", Renders("two"), tmp_path) == "two"
    assert json.loads(entry.read_text())["body"] == "two"
    blocked = tmp_path / "file"
    blocked.write_text("")
    renders = Renders("three")
    assert cached_render("s", "json", renders, blocked) == "three"
    assert cached_render("s", "json", renders, blocked) == "three" and renders.calls == 2


def test_a_warm_render_loads_neither_troposphere_nor_awacs(tmp_path: Path) -> None:
    code = ("import sys; from webhookctl.cli import cli\n"
            "try: cli(['render', '--format', 'json'])\n"
            "except SystemExit as done: assert done.code == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'troposphere', 'awacs', 'cfn_flip', 'yaml'}),"
            " file=sys.stderr)")
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                           timeout=60) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stderr.strip() == "['awacs', 'cfn_flip', 'troposphere', 'yaml']"
    assert runs[1].stderr.strip() == "[]"
