"""A sandbox per test module (start ~1 s once moto is imported), and helpers that wait on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from click.testing import CliRunner

from webhookctl.tryit.sandbox import Sandbox, SandboxOptions, aws_environment, start_sandbox


class Shown:
    """Collects what the sandbox shows per webhook: (kind, line)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, kind: str, line: str) -> None:
        self.lines.append((kind, line))

    def of(self, kind: str, containing: str) -> list[str]:
        return [line for k, line in list(self.lines) if k == kind and containing in line]


@pytest.fixture(scope="module")
def shown() -> Shown:
    return Shown()


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest, shown: Shown) -> Iterator[Sandbox]:
    """Failed messages retry at once (retry_delay_s=0), so a DLQ drill takes well under a second."""
    suffix = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")[:20]
    running = start_sandbox(SandboxOptions(suffix=suffix, retry_delay_s=0, idle_s=0.02, stream_poll_s=0.05,
                                           alarm_every_s=0.1),
                            lambda line: None, show=shown)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def sandbox_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root conftest hides AWS endpoints from every test; inside a sandbox test the handlers need it."""
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox")
        point_at_sandbox(monkeypatch, "us-east-1")


def point_at_sandbox(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    """The environment the in-process handlers read their AWS endpoint and credentials from, for one test."""
    for name, value in aws_environment(region).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


class SandboxCliRunner(CliRunner):
    """A CliRunner for commands run beside an in-process sandbox: CliRunner swaps sys.stdout for its own
    buffer, and a handler already inside an invocation would then log into the command's output; routing again
    at once keeps every handler line with its own invocation."""

    def __init__(self, sandbox: Sandbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._capture = sandbox.capture

    @contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            self._capture.ensure_routed()
            yield streams


def wait_for(probe: Callable[[], Any], *, timeout: float = 20.0, every: float = 0.02) -> Any:
    """probe() once it is truthy; fails the test with the last value after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            assert value, f"still {value!r} after {timeout} s"
            return value
        time.sleep(every)
