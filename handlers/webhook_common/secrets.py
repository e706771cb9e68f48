"""The receiver's view of the signing-secrets document (`contract.secrets`), cached per container.

Only usable entries are kept: a provider whose entry is malformed, empty or all blank is simply not
configured. Pure stdlib: the fetch function is passed in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .contract import secrets as document

ProviderSecrets = document.Entry


def usable_entries(text: str) -> dict[str, ProviderSecrets]:
    """provider -> its usable secrets and options; SecretsDocumentError when the document is not an object."""
    return {provider: document.Entry(entry.usable, entry.options)
            for provider, entry in document.parse(text).items() if entry.usable}


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
        self._value = usable_entries(self._fetch())
        self._fetched_at = self._clock()
