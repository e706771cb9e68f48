"""Per-container state: configuration from environment variables and AWS clients, each made once, lazily.

Nothing here runs at import, so tests start moto (or swap in fakes) before the first call; `reset()` forgets
everything between tests. Clients use short timeouts and few retries: the receiver must answer inside the
provider's 5-30 s window, and a 500 makes the provider retry later anyway.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import boto3
from botocore.config import Config

from . import logs
from .secrets import SecretsCache

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=4)


class ConfigError(RuntimeError):
    """A required environment variable is missing or invalid: the function is deployed wrong."""


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _env_int(name: str, default: int, low: int, high: int) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"environment variable {name} must be {low}..{high}, got {value}")
    return value


@dataclass(frozen=True)
class ReceiverConfig:
    table_name: str
    queue_url: str
    secrets_arn: str
    event_ttl_days: int
    secrets_cache_seconds: int


@dataclass(frozen=True)
class ProcessorConfig:
    table_name: str


@functools.cache
def receiver_config() -> ReceiverConfig:
    return ReceiverConfig(
        table_name=_env("TABLE_NAME"),
        queue_url=_env("QUEUE_URL"),
        secrets_arn=_env("SIGNING_SECRETS_ARN"),
        event_ttl_days=_env_int("EVENT_TTL_DAYS", 90, 1, 3650),
        secrets_cache_seconds=_env_int("SECRETS_CACHE_SECONDS", 300, 0, 86400),
    )


@functools.cache
def processor_config() -> ProcessorConfig:
    return ProcessorConfig(table_name=_env("TABLE_NAME"))


@functools.cache
def dynamodb():
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def sqs():
    return boto3.client("sqs", config=CLIENT_CONFIG)


@functools.cache
def secretsmanager():
    return boto3.client("secretsmanager", config=CLIENT_CONFIG)


@functools.cache
def signing_secrets() -> SecretsCache:
    """The receiver's view of the signing secret, re-read every SECRETS_CACHE_SECONDS."""
    config = receiver_config()

    def fetch() -> str:
        return secretsmanager().get_secret_value(SecretId=config.secrets_arn)["SecretString"]

    return SecretsCache(fetch, ttl=config.secrets_cache_seconds)


CACHED = (receiver_config, processor_config, dynamodb, sqs, secretsmanager, signing_secrets, logs.threshold)


def reset() -> None:
    """Forget configuration and clients, as a new container would (tests)."""
    for getter in CACHED:
        getter.cache_clear()
