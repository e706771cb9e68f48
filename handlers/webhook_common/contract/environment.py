"""Each function's environment: every variable's name, type, default and bounds, written once.

The template renders these variables (`EnvVar.render`), the handlers read them (`read`), and the settings
that feed them take their defaults and bounds from here, so the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ConfigError(RuntimeError):
    """A variable is missing or out of bounds: the function is deployed wrong."""


@dataclass(frozen=True)
class EnvVar:
    name: str
    kind: type  # str | int | bool
    doc: str
    default: Any = None  # None: required (the template always sets it)
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        if self.kind is int:
            return f"an integer from {self.low} to {self.high}"
        if self.kind is bool:
            return "true or false"
        return "one of " + ", ".join(self.choices) if self.choices else "a non-empty string"

    def valid(self, value: Any) -> bool:
        if self.kind is int:
            return (isinstance(value, int) and not isinstance(value, bool)
                    and self.low <= value <= self.high)  # type: ignore[operator]
        if self.kind is bool:
            return isinstance(value, bool)
        return isinstance(value, str) and bool(value) and (not self.choices or value in self.choices)

    def render(self, value: Any) -> str:
        """The variable's text in the template (Lambda environment values are strings)."""
        if not self.valid(value):
            raise ValueError(f"{self.name}={value!r} must be {self.rule}")
        return ("true" if value else "false") if self.kind is bool else str(value)

    def parse(self, raw: str) -> Any:
        if self.kind is int:
            try:
                value: Any = int(raw)
            except ValueError:
                raise ConfigError(f"environment variable {self.name} must be {self.rule}, got {raw!r}") from None
        elif self.kind is bool:
            value = {"true": True, "false": False}.get(raw.strip().lower())
        else:
            value = raw
        if not self.valid(value):
            raise ConfigError(f"environment variable {self.name} must be {self.rule}, got {raw!r}")
        return value

    def read(self, environ: Mapping[str, str]) -> Any:
        raw = environ.get(self.name)
        if not raw:
            if self.default is None:
                raise ConfigError(f"environment variable {self.name} is not set")
            return self.default
        return self.parse(raw)


TABLE_NAME = EnvVar("TABLE_NAME", str, "the webhook table")
QUEUE_URL = EnvVar("QUEUE_URL", str, "the processing queue")
SIGNING_SECRETS_ARN = EnvVar("SIGNING_SECRETS_ARN", str, "the signing-secrets document")
EVENT_TTL_DAYS = EnvVar("EVENT_TTL_DAYS", int, "days a stored webhook is kept (DynamoDB TTL)", 90, 1, 3650)
SECRETS_CACHE_SECONDS = EnvVar("SECRETS_CACHE_SECONDS", int, "receiver's signing-secret cache TTL, s",
                               300, 0, 3600)
REPLAY_GUARD_DAYS = EnvVar("REPLAY_GUARD_DAYS", int, "days a tombstone keeps a signed-no-time event's replay "
                           "refused (Adyen, GitHub; longer than event_ttl_days)", 400, 31, 7300)
STACK_NAME = EnvVar("STACK_NAME", str, "the stack's name (the metrics' Stack dimension)")
EVENT_BUS_NAME = EnvVar("EVENT_BUS_NAME", str, "the bus payment events are published to")
PUBLISH_IGNORED = EnvVar("PUBLISH_IGNORED", bool, "publish events of unmapped types too (category other)", False)
SWEEP_GRACE_SECONDS = EnvVar("SWEEP_GRACE_SECONDS", int, "sweeper: how long a stored event may wait for its "
                             "receiver to enqueue it before the sweeper does, s", 120, 30, 3600)
LOG_LEVEL = EnvVar("LOG_LEVEL", str, "the lowest level logged", "INFO",
                   choices=("DEBUG", "INFO", "WARNING", "ERROR"))

FUNCTION_ENVIRONMENT: dict[str, tuple[EnvVar, ...]] = {
    "receiver": (TABLE_NAME, QUEUE_URL, SIGNING_SECRETS_ARN, EVENT_TTL_DAYS, REPLAY_GUARD_DAYS,
                 SECRETS_CACHE_SECONDS, STACK_NAME, LOG_LEVEL),
    "processor": (TABLE_NAME, EVENT_BUS_NAME, PUBLISH_IGNORED, STACK_NAME, LOG_LEVEL),
    "audit": (STACK_NAME, LOG_LEVEL),
    "sweeper": (TABLE_NAME, QUEUE_URL, SWEEP_GRACE_SECONDS, STACK_NAME, LOG_LEVEL),
}


def read(variables: tuple[EnvVar, ...], environ: Mapping[str, str]) -> dict[str, Any]:
    """name -> typed value for each variable, or ConfigError naming the first bad one."""
    return {v.name: v.read(environ) for v in variables}
