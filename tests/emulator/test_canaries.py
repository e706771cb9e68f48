"""Each emulator patch against unpatched moto: a canary that fails the day moto closes the gap, so the patch is
deleted rather than carried.

The patches are process-wide and other tests install them, so the probes run in a fresh interpreter that never
does (webhookctl.tryit.emulator.canaries, one run for the session).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import time

import pytest

import webhookctl.tryit.emulator as emulator
from webhookctl.tryit.emulator import ACCOUNT_PRESETS, PATCHES

pytestmark = pytest.mark.slow

CANARY_SECONDS = 30  # the run takes ~11 s on a 2-core machine; far more means a probe went wrong


def canary_run(*flags: str) -> dict[str, bool | str]:
    """{patch name: its gap is still there (bool), or why its probe could not run}, from a fresh interpreter."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "webhookctl.tryit.emulator.canaries", *flags], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert time.monotonic() - started < CANARY_SECONDS
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def gaps() -> dict[str, bool | str]:
    """The canaries on unpatched moto."""
    return canary_run()


@pytest.mark.parametrize("patch", PATCHES, ids=lambda patch: patch.name)
def test_moto_still_has_the_gap(gaps: dict[str, bool | str], patch: emulator.Patch) -> None:
    found = gaps[patch.name]
    assert found is not False, f"moto now {patch.fixed}: delete the {patch.name} patch in {patch.module}"
    assert found is True, (f"the {patch.name} canary could not run on this moto ({found}): the patch in "
                           f"{patch.module} may rely on something moto changed")


def test_every_patch_has_exactly_one_canary_and_presets_none(gaps: dict[str, bool | str]) -> None:
    names = [patch.name for patch in PATCHES]
    assert len(names) == len(set(names))
    assert sorted(gaps) == sorted(names)
    assert all(callable(patch.gap) for patch in PATCHES)
    assert {patch.canary for patch in PATCHES} <= {"behaviour", "timing", "structure"}
    assert not any(hasattr(preset, "gap") for preset in ACCOUNT_PRESETS)


def test_install_patches_applies_every_patch_function_of_the_package() -> None:
    # A patch_* (or preset_*) function missing from the lists would be applied by nobody, or without a canary.
    declared = {change.apply for change in (*PATCHES, *ACCOUNT_PRESETS)}
    defined = set()
    for module in pkgutil.iter_modules(emulator.__path__):
        functions = inspect.getmembers(importlib.import_module(f"{emulator.__name__}.{module.name}"),
                                       inspect.isfunction)
        defined |= {f for name, f in functions if name.startswith(("patch_", "preset_"))}
    assert declared == defined
    assert all(patch.apply.__name__.startswith("patch_") for patch in PATCHES)
    assert all(preset.apply.__name__.startswith("preset_") for preset in ACCOUNT_PRESETS)


def test_on_patched_moto_no_probe_sees_its_gap() -> None:
    # The other side of every canary: a probe that answered True whatever moto did would never ask for a deletion.
    # A fresh interpreter too, patched first as the emulator is: a patch may change what moto imports.
    results = canary_run("--patched")
    assert {name: found for name, found in results.items() if found is not False} == {}
