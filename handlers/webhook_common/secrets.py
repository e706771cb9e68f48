"""The signing-secret document (provider → active secrets [+ options]) with a per-container TTL cache.

Document shape: `{"stripe": ["whsec_new", "whsec_old"], "square": {"secrets": ["key"], "notificationUrl":
"https://..."}}`. Any listed secret verifies (rotation). Pure stdlib: the fetch function is passed in.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class SecretFormatError(ValueError):
    """The secret is not a JSON object: a deployment fault, so the receiver answers 500 and providers retry."""


@dataclass(frozen=True)
class ProviderSecrets:
    secrets: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


def parse_document(text: str) -> dict[str, ProviderSecrets]:
    """Providers with at least one usable secret; malformed entries count as unconfigured."""
    try:
        document = json.loads(text)
    except ValueError:
        raise SecretFormatError("signing secret is not JSON") from None
    if not isinstance(document, dict):
        raise SecretFormatError("signing secret is not a JSON object of provider -> secrets")
    parsed = {}
    for provider, entry in document.items():
        options = {}
        if isinstance(entry, dict):
            options = {k: v for k, v in entry.items() if k != "secrets"}
            entry = entry.get("secrets")
        secrets = tuple(s for s in entry if isinstance(s, str) and s) if isinstance(entry, list) else ()
        if secrets:
            parsed[provider] = ProviderSecrets(secrets, options)
    return parsed


class SecretsCache:
    """Fetches the document at most once per `ttl` seconds; `refresh` re-reads early, but not too often."""

    def __init__(self, fetch: Callable[[], str], ttl: float, clock: Callable[[], float] = time.monotonic):
        self._fetch, self._ttl, self._clock = fetch, ttl, clock
        self._lock = threading.Lock()
        self._value: dict[str, ProviderSecrets] | None = None
        self._fetched_at = 0.0

    def get(self, provider: str) -> ProviderSecrets | None:
        with self._lock:
            if self._value is None or self._clock() - self._fetched_at >= self._ttl:
                self._load()
            return self._value.get(provider)

    def refresh(self, provider: str, min_age: float) -> ProviderSecrets | None:
        """Re-read if the cached copy is older than min_age (a secret may just have rotated); else None."""
        with self._lock:
            if self._value is not None and self._clock() - self._fetched_at < min_age:
                return None
            self._load()
            return self._value.get(provider)

    def _load(self) -> None:
        self._value = parse_document(self._fetch())
        self._fetched_at = self._clock()
