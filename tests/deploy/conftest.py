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

from webhookctl.cli import cli
from webhookctl.commands import stack as stack_commands
from webhookctl.stack.deploy import PackageConfig
from webhookctl.stack.stack_events import Timing


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

    def now(self) -> datetime:
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(seconds=self.seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Commands wait on this clock: polls cost no time and are counted."""
    fake = FakeClock()
    monkeypatch.setattr(stack_commands, "TIMING", Timing(sleep=fake.sleep, clock=fake.monotonic, now=fake.now,
                                                         timeout_seconds=600))
    return fake


@pytest.fixture
def handlers_source(tmp_path: Path) -> Path:
    """A copy of the handler sources a test may edit (a 'code change')."""
    source = tmp_path / "handlers"
    shutil.copytree(Path(str(files("webhookctl.handlers"))), source,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return source


@pytest.fixture
def packaging(tmp_path: Path, handlers_source: Path, monkeypatch: pytest.MonkeyPatch) -> PackageConfig:
    """Commands package the copied handlers and an empty layer (no pip, no network) into a tmp cache."""
    requirements = tmp_path / "layer-requirements.txt"
    requirements.write_text("# no third-party packages\n")
    config = PackageConfig(cache_dir=tmp_path / "cache", requirements=requirements,
                           handlers_source=handlers_source)
    monkeypatch.setattr(stack_commands, "PACKAGING", config)
    return config


@pytest.fixture
def run(clock: FakeClock, packaging: PackageConfig) -> Callable[..., Result]:
    """run(obj, "deploy", "--suffix", "x", input=None) -> click Result (stdout and stderr apart)."""

    def invoke(obj: Any, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), obj=obj, input=input)

    return invoke
