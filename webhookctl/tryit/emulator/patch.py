"""The records the emulator's changes to moto are declared with (the list is in __init__.py).

Pure: importing this loads neither moto nor boto3.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Patch:
    """One change to moto, and the canary that tells when moto no longer needs it.

    `gap(probe)` runs on unpatched in-process moto (canaries.py) and is True while moto still has the gap;
    `fixed` ends the sentence "moto now ..." that the canary test fails with on the day it is False.
    """

    name: str
    apply: Callable[[], None]
    gap: Callable[[Any], bool]
    fixed: str
    # "behaviour" (an API call shows the gap), or "timing" / "structure" where behaviour cannot be probed
    # deterministically (the probe's docstring says why).
    canary: str = "behaviour"

    @property
    def module(self) -> str:
        """Where the patch lives, as a path from the repository root."""
        return self.apply.__module__.replace(".", "/") + ".py"


@dataclass(frozen=True)
class AccountPreset:
    """A setting of the emulated account, not a moto gap: a fresh AWS account lacks it too, so it has no canary."""

    name: str
    apply: Callable[[], None]


def run_under(lock: Any, owner: type, name: str) -> None:
    """owner.name made to hold LOCK while it runs: how the emulator makes moto's requests atomic."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    setattr(owner, name, locked)
