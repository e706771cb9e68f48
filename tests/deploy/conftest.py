"""Deploy-command fixtures: instant waits, packaging from a private copy of the handlers, a CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from webhookctl.building.packaging import PackageConfig
from webhookctl.cli import cli
from webhookctl.edge.clock import Clock
from webhookctl.edge.context import AppContext

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeClock:
    """Monotonic seconds and wall time that only move when something sleeps."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.seconds += seconds

    def monotonic(self) -> float:
        return self.seconds

    def time(self) -> float:
        return (START + timedelta(seconds=self.seconds)).timestamp()

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    @property
    def as_clock(self) -> Clock:
        return Clock(sleep=self.sleep, monotonic=self.monotonic, time=self.time)


@pytest.fixture
def clock() -> FakeClock:
    """Commands wait on this clock (handed to them in the AppContext): polls cost no time and are counted."""
    return FakeClock()


@pytest.fixture
def handlers_source(tmp_path: Path) -> Path:
    """A copy of the handler sources a test may edit (a 'code change')."""
    source = tmp_path / "handlers"
    shutil.copytree(Path(str(files("webhookctl.handlers"))), source,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return source


@pytest.fixture
def packaging(tmp_path: Path, handlers_source: Path) -> PackageConfig:
    """Commands package the copied handlers and an empty layer (no pip, no network) into a tmp cache."""
    requirements = tmp_path / "layer-requirements.txt"
    requirements.write_text("# no third-party packages\n")
    return PackageConfig(cache_dir=tmp_path / "cache", requirements=requirements, handlers_source=handlers_source)


@pytest.fixture
def run(clock: FakeClock, packaging: PackageConfig) -> Callable[..., Result]:
    """run(obj, "deploy", "--suffix", "x", input=None, terminal=False) -> click Result (stdout and stderr
    apart); the AppContext gets the fake clock, the test packaging and a terminal or not."""

    def invoke(obj: Any, *args: str, input: str | None = None, terminal: bool = False) -> Result:
        if obj is None:
            obj = AppContext()
        obj.clock, obj.packaging, obj.is_terminal = clock.as_clock, packaging, lambda: terminal
        return CliRunner().invoke(cli, list(args), obj=obj, input=input)

    return invoke
