"""The template's Metadata entry recording the settings a stack was deployed with, and reading it back.

Pure: no boto3, no I/O, no troposphere. Only settings that differ from their defaults are recorded (the
suffix is the stack's name, not a record), so `diff` and `deploy` can warn before a run reverts one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .settings import Settings

KEY = "Webhookctl"
NOT_RECORDED = ("suffix",)


def metadata_entry(s: Settings) -> dict[str, Any]:
    """{"Webhookctl": {"settings": {name: value}}} for every setting that is not its default."""
    changed = {f.name: _jsonable(getattr(s, f.name)) for f in dataclasses.fields(s)
               if f.name not in NOT_RECORDED and getattr(s, f.name) != f.default}
    return {KEY: {"settings": changed}}


def recorded_settings(template: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings a deployed template's Metadata records ({} for a template without the entry)."""
    entry = ((template or {}).get("Metadata") or {}).get(KEY) or {}
    settings = entry.get("settings") if isinstance(entry, Mapping) else None
    return dict(settings) if isinstance(settings, Mapping) else {}


@dataclass(frozen=True)
class Revert:
    """A setting the stack was deployed with that this run would change back without being asked to."""

    name: str
    deployed: Any
    now: Any  # None: a setting this version of webhookctl does not know

    def describe(self, config_name: str = "webhookctl.toml") -> str:
        now = "unknown to this webhookctl" if self.now is None else f"{show(self.now)} (default)"
        return (f"{self.name}: deployed {show(self.deployed)}, this run {now} — pass --set or put it in "
                f"{config_name}")


def reverts(recorded: Mapping[str, Any], s: Settings, explicit: Collection[str]) -> list[Revert]:
    """Recorded settings this run leaves at a different value without naming them (--set or the file)."""
    defaults = {f.name: f.default for f in dataclasses.fields(s)}
    found = []
    for name, deployed in sorted(recorded.items()):
        if name in explicit or name in NOT_RECORDED:
            continue
        now = _jsonable(getattr(s, name)) if name in defaults else None
        if now != deployed:
            found.append(Revert(name, deployed, now))
    return found


def show(value: Any) -> str:
    """A recorded value as the user would type it after --set."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "(none)"
    return str(value)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
