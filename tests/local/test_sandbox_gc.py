"""The sandbox's start runs without the cyclic garbage collector and freezes what it made; stop thaws it."""

from __future__ import annotations

import errno
import gc
import socket

import pytest

from webhookctl.tryit.sandbox import SandboxOptions, start_sandbox


@pytest.fixture
def collector_restored():
    yield
    gc.enable()
    gc.unfreeze()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_failed_start_leaves_the_collector_as_it_found_it_and_freezes_nothing(enabled, collector_restored):
    (gc.enable if enabled else gc.disable)()
    frozen = gc.get_freeze_count()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError) as refused:
            start_sandbox(SandboxOptions(port=busy.getsockname()[1]), lambda line: None)
    assert refused.value.errno == errno.EADDRINUSE
    assert (gc.isenabled(), gc.get_freeze_count()) == (enabled, frozen)


def test_a_started_sandbox_is_frozen_while_it_runs_and_thawed_when_it_stops(collector_restored):
    sandbox = start_sandbox(SandboxOptions(suffix="gc"), lambda line: None)
    try:
        assert gc.isenabled() and gc.get_freeze_count() > 10_000  # moto's models, the stack, the handlers
    finally:
        sandbox.stop()
    assert gc.get_freeze_count() == 0
