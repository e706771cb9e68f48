"""The records the emulator's changes to moto are declared with (the list is in __init__.py).

Pure: importing this loads neither moto nor boto3.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
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


class StandIn(types.ModuleType):
    """Answers for a module while import_beside runs; afterwards, any attribute read imports the real one."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:  # still standing in: what the import system probes for
            raise AttributeError(name)
        return getattr(importlib.import_module(self.__name__), name)


def stand_in_package(name: str, **attributes: Any) -> StandIn:
    """A StandIn that submodules can be found under (their own stand-ins, in the same import_beside)."""
    package = StandIn(name)
    package.__path__ = []
    vars(package).update(attributes)
    return package


def import_beside(module: str, stand_ins: list[StandIn]) -> types.ModuleType:
    """MODULE imported while STAND_INS answer for modules it imports, which stay unloaded (a module it imports
    that has no stand-in under a stand-in package fails to import, loudly)."""
    seeded = [stand_in for stand_in in stand_ins if stand_in.__name__ not in sys.modules]
    sys.modules.update((stand_in.__name__, stand_in) for stand_in in seeded)
    try:
        return importlib.import_module(module)
    finally:
        for stand_in in seeded:
            sys.modules.pop(stand_in.__name__, None)
