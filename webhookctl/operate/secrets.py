"""`webhookctl secrets`: the signing-secrets document (contract.secrets) read and written in Secrets Manager.

Every edit is read-modify-write of one document; the previous version stays readable as AWSPREVIOUS.
Nothing here ever returns or prints a secret value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webhookctl.edge.errors import UsageError, WebhookctlError
from webhookctl.handlers.webhook_common.contract import secrets as document
from webhookctl.handlers.webhook_common.contract.secrets import Document, SecretsDocumentError


class SecretDocumentError(WebhookctlError):
    """The stored document is not the JSON object the receiver expects."""


def known_providers() -> list[str]:
    """The receiver's providers: the only names it can verify."""
    from webhookctl.handlers.webhook_common.providers import PROVIDERS

    return sorted(PROVIDERS)


def check_provider(provider: str) -> None:
    valid = known_providers()
    if provider not in valid:
        raise UsageError(f"unknown provider {provider!r}: use one of {', '.join(valid)}")


def clean_secret(raw: str, provider: str) -> str:
    """The secret without surrounding space, refused when the receiver could never verify with it."""
    from webhookctl.handlers.webhook_common.providers import PROVIDERS

    value = raw.strip()
    if not value:
        raise UsageError("the secret is empty: pipe it on stdin or pass --from-file FILE")
    problem = PROVIDERS[provider].secret_problem(value)
    if problem:
        raise UsageError(f"not a {provider} signing secret: {problem}")
    return value


@dataclass(frozen=True)
class ProviderSummary:
    provider: str
    secrets: int
    options: tuple[str, ...]  # option names only: values may be sensitive too


@dataclass(frozen=True)
class Stored:
    provider: str
    secrets: int  # how many are valid now
    version: str  # the new AWSCURRENT version


def add_secret(secretsmanager: Any, arn: str, provider: str, raw: str, *, replace: bool = False,
               options: Mapping[str, str] | None = None) -> Stored:
    """Store `raw` as PROVIDER's newest secret (earlier ones stay valid for rotation unless replace)."""
    check_provider(provider)
    value = clean_secret(raw, provider)
    edited = _edit(lambda doc: document.with_secret(doc, provider, value, replace=replace, options=options),
                   load_document(secretsmanager, arn))
    return Stored(provider, len(edited[provider].secrets), save_document(secretsmanager, arn, edited))


def remove_secrets(secretsmanager: Any, arn: str, provider: str, *, keep_newest: bool,
                   confirm: Callable[[str], None]) -> Stored:
    """Drop PROVIDER (or its older secrets); `confirm(what)` may refuse before anything is written."""
    current = load_document(secretsmanager, arn)
    if provider not in current:
        raise UsageError(f"no secrets stored for {provider!r}; `webhookctl secrets list` shows what is there")
    edited = _edit(lambda doc: document.without(doc, provider, keep_newest=keep_newest), current)
    confirm(f"remove the older secrets of {provider}" if keep_newest else f"remove every secret of {provider}")
    left = len(edited[provider].secrets) if provider in edited else 0
    return Stored(provider, left, save_document(secretsmanager, arn, edited))


def list_secrets(secretsmanager: Any, arn: str) -> list[ProviderSummary]:
    return [ProviderSummary(provider, len(entry.secrets), tuple(sorted(entry.options)))
            for provider, entry in sorted(load_document(secretsmanager, arn).items())]


def newest_secret(secret_string: str, provider: str, where: str) -> tuple[str, dict[str, Any]]:
    """PROVIDER's newest usable secret and its options: what a sender signs with."""
    entry = _parsed(secret_string, where).get(provider, document.Entry())
    if not entry.usable:
        raise UsageError(f"no signing secret for {provider} in {where}: add one with "
                         f"`webhookctl secrets set --provider {provider}`, or pass --secret")
    return entry.usable[0], dict(entry.options)


def _edit(change: Callable[[Document], Document], current: Document) -> Document:
    try:
        return change(current)
    except SecretsDocumentError as exc:
        raise SecretDocumentError(str(exc)) from exc


# ---- Secrets Manager ---------------------------------------------------------------------------------


def load_document(secretsmanager: Any, secret_arn: str) -> Document:
    """The current document; a secret that has no value yet reads as empty."""
    from botocore.exceptions import ClientError

    try:
        text = secretsmanager.get_secret_value(SecretId=secret_arn).get("SecretString") or "{}"
    except ClientError as exc:
        # A secret created without a value has no AWSCURRENT version to read yet.
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException" or not _exists(
                secretsmanager, secret_arn):
            raise
        text = "{}"
    return _parsed(text, secret_arn)


def _parsed(text: str, where: str) -> Document:
    try:
        return document.parse(text)
    except SecretsDocumentError:
        raise SecretDocumentError(f"{where} does not hold a JSON object of provider -> secrets; refusing to "
                                  "use or overwrite it: inspect it in the Secrets Manager console") from None


def _exists(secretsmanager: Any, secret_arn: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        secretsmanager.describe_secret(SecretId=secret_arn)
    except ClientError:
        return False
    return True


def save_document(secretsmanager: Any, secret_arn: str, edited: Document) -> str:
    """Store a new AWSCURRENT version (the previous one stays readable as AWSPREVIOUS); returns its id."""
    response = secretsmanager.put_secret_value(SecretId=secret_arn, SecretString=document.dump(edited))
    return response.get("VersionId", "?")
