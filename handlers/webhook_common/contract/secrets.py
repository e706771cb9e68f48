"""The signing-secrets document: its one parser, its one writer, and the edits a rotation needs.

Shape: `{"stripe": ["whsec_new", "whsec_old"], "square": {"secrets": ["key"], "notificationUrl": "..."}}`.
Secrets are listed newest first; any of them verifies (add the new one, switch the provider, drop the old).
An entry of another shape is kept as it was (`raw`) so that editing one provider never destroys another,
and it verifies nothing. Pure stdlib; nothing here returns a secret except to the verifier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class SecretsDocumentError(ValueError):
    """The document (or one entry being edited) is not of the shape above."""


@dataclass(frozen=True)
class Entry:
    """One provider's secrets (newest first) and options; `raw` holds an entry of an unknown shape."""

    secrets: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    raw: Any = None

    @property
    def malformed(self) -> bool:
        return self.raw is not None

    @property
    def usable(self) -> tuple[str, ...]:
        """Secrets the receiver may verify with: never a blank one (an empty HMAC key is everyone's key)."""
        return tuple(s for s in self.secrets if s.strip())

    def as_json(self) -> Any:
        if self.malformed:
            return self.raw
        return {"secrets": list(self.secrets), **self.options} if self.options else list(self.secrets)


Document = dict[str, Entry]


def parse(text: str) -> Document:
    """provider -> Entry; SecretsDocumentError when the text is not a JSON object."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise SecretsDocumentError("the signing-secrets document is not JSON") from None
    if not isinstance(value, dict):
        raise SecretsDocumentError("the signing-secrets document is not a JSON object of provider -> secrets")
    return {str(provider): _entry(entry) for provider, entry in value.items()}


def _entry(value: Any) -> Entry:
    options: dict[str, Any] = {}
    secrets = value
    if isinstance(value, dict):
        options = {k: v for k, v in value.items() if k != "secrets"}
        secrets = value.get("secrets", [])
    if not isinstance(secrets, list) or not all(isinstance(s, str) for s in secrets):
        return Entry(raw=value)
    return Entry(tuple(secrets), options)


def dump(document: Mapping[str, Entry]) -> str:
    """The document's text, as Secrets Manager stores it."""
    return json.dumps({provider: entry.as_json() for provider, entry in document.items()},
                      separators=(",", ":"))


def with_secret(document: Mapping[str, Entry], provider: str, secret: str, *, replace: bool = False,
                options: Mapping[str, Any] | None = None) -> Document:
    """`secret` first for `provider`; earlier ones kept (rotation) unless replace."""
    old = document.get(provider, Entry())
    if old.malformed and not replace:
        raise SecretsDocumentError(f"the entry for {provider!r} is neither a list of secrets nor an object with "
                                   f"\"secrets\": overwrite it with `webhookctl secrets set --provider {provider} "
                                   "--replace`")
    kept = () if replace or old.malformed else tuple(s for s in old.secrets if s != secret)
    merged = {**({} if old.malformed else old.options), **(options or {})}
    return {**document, provider: Entry((secret, *kept), merged)}


def without(document: Mapping[str, Entry], provider: str, *, keep_newest: bool = False) -> Document:
    """Drop a provider, or (keep_newest) only its older secrets: the last step of a rotation."""
    if provider not in document:
        raise KeyError(provider)
    if not keep_newest:
        return {k: v for k, v in document.items() if k != provider}
    entry = document[provider]
    if entry.malformed:
        raise SecretsDocumentError(f"the entry for {provider!r} holds no list of secrets to trim")
    return {**document, provider: Entry(entry.secrets[:1], entry.options)}
