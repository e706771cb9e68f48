"""The signing-secrets document: {provider: [secret, ...] | {"secrets": [...], ...options}}.

Secrets are listed newest first; the receiver accepts a signature made with any of them, which is what
makes rotation safe (add the new one, switch the provider, then drop the old ones).
Nothing here ever returns or prints a secret value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webhookctl.edge.errors import UsageError, WebhookctlError
from webhookctl.edge.jsondoc import json_object


class SecretDocumentError(WebhookctlError):
    """The stored document is not the JSON object the receiver expects."""


def known_providers() -> list[str]:
    """The receiver's providers: the only names it can verify."""
    from webhookctl.handlers.webhook_common.providers import PROVIDERS

    return sorted(PROVIDERS)


def check_provider(provider: str, valid: list[str]) -> None:
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


# ---- pure edits --------------------------------------------------------------------------------------


def provider_entry(document: Mapping[str, Any], provider: str) -> tuple[list[str], dict[str, Any]]:
    """(secrets, options) of one provider, whichever of the two shapes it is stored in."""
    entry = document.get(provider, [])
    if isinstance(entry, list):
        return [str(s) for s in entry], {}
    if isinstance(entry, dict) and isinstance(entry.get("secrets", []), list):
        options = {k: v for k, v in entry.items() if k != "secrets"}
        return [str(s) for s in entry.get("secrets", [])], options
    raise SecretDocumentError(f"the entry for {provider!r} is neither a list of secrets nor an object with "
                              f"\"secrets\": overwrite it with `webhookctl secrets set --provider {provider} "
                              "--replace`")


def _entry(secrets: list[str], options: Mapping[str, Any]) -> list[str] | dict[str, Any]:
    return {"secrets": secrets, **options} if options else secrets


def with_secret(document: Mapping[str, Any], provider: str, secret: str, *, replace: bool = False,
                options: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A new document with `secret` first for `provider` (earlier ones kept unless replace)."""
    try:
        old_secrets, old_options = provider_entry(document, provider)
    except SecretDocumentError:
        if not replace:
            raise
        old_secrets, old_options = [], {}
    secrets = [secret, *(s for s in ([] if replace else old_secrets) if s != secret)]
    return {**document, provider: _entry(secrets, {**old_options, **(options or {})})}


def without(document: Mapping[str, Any], provider: str, *, keep_newest: bool = False) -> dict[str, Any]:
    """Drop a provider, or (keep_newest) only its older secrets: the last step of a rotation."""
    if provider not in document:
        raise UsageError(f"no secrets stored for {provider!r}; `webhookctl secrets list` shows what is there")
    if not keep_newest:
        return {k: v for k, v in document.items() if k != provider}
    secrets, options = provider_entry(document, provider)
    return {**document, provider: _entry(secrets[:1], options)}


@dataclass(frozen=True)
class ProviderSummary:
    provider: str
    secrets: int
    options: tuple[str, ...]  # option names only: values may be sensitive too


def summarize(document: Mapping[str, Any]) -> list[ProviderSummary]:
    summaries = []
    for provider in sorted(document):
        secrets, options = provider_entry(document, provider)
        summaries.append(ProviderSummary(provider, len(secrets), tuple(sorted(options))))
    return summaries


# ---- Secrets Manager ---------------------------------------------------------------------------------


def load_document(secretsmanager: Any, secret_arn: str) -> dict[str, Any]:
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
    return parse_document(text, secret_arn)


def parse_document(text: str, where: str) -> dict[str, Any]:
    """The provider -> secrets object, or an error that refuses to work on anything else."""
    document = json_object(text)
    if document is None:
        raise SecretDocumentError(f"{where} does not hold a JSON object of provider -> secrets; refusing to "
                                  "use or overwrite it: inspect it in the Secrets Manager console")
    return document


def _exists(secretsmanager: Any, secret_arn: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        secretsmanager.describe_secret(SecretId=secret_arn)
    except ClientError:
        return False
    return True


def save_document(secretsmanager: Any, secret_arn: str, document: Mapping[str, Any]) -> str:
    """Store a new AWSCURRENT version (the previous one stays readable as AWSPREVIOUS); returns its id."""
    response = secretsmanager.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(document))
    return response.get("VersionId", "?")
