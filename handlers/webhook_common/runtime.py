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
from .contract import environment as env
from .secrets import SecretsCache

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=4)


@dataclass(frozen=True)
class ReceiverConfig:
    table_name: str
    queue_url: str
    secrets_arn: str
    event_ttl_days: int
    replay_guard_days: int
    secrets_cache_seconds: int
    stack_name: str = ""


@dataclass(frozen=True)
class ProcessorConfig:
    table_name: str
    event_bus_name: str
    publish_ignored: bool
    stack_name: str


@dataclass(frozen=True)
class SweeperConfig:
    table_name: str
    queue_url: str
    grace_seconds: int
    stack_name: str


@functools.cache
def receiver_config() -> ReceiverConfig:
    values = env.read(env.FUNCTION_ENVIRONMENT["receiver"], os.environ)
    return ReceiverConfig(
        table_name=values[env.TABLE_NAME.name],
        queue_url=values[env.QUEUE_URL.name],
        secrets_arn=values[env.SIGNING_SECRETS_ARN.name],
        event_ttl_days=values[env.EVENT_TTL_DAYS.name],
        replay_guard_days=values[env.REPLAY_GUARD_DAYS.name],
        secrets_cache_seconds=values[env.SECRETS_CACHE_SECONDS.name],
        stack_name=values[env.STACK_NAME.name],
    )


@functools.cache
def processor_config() -> ProcessorConfig:
    values = env.read(env.FUNCTION_ENVIRONMENT["processor"], os.environ)
    return ProcessorConfig(table_name=values[env.TABLE_NAME.name], event_bus_name=values[env.EVENT_BUS_NAME.name],
                           publish_ignored=values[env.PUBLISH_IGNORED.name], stack_name=values[env.STACK_NAME.name])


@functools.cache
def sweeper_config() -> SweeperConfig:
    values = env.read(env.FUNCTION_ENVIRONMENT["sweeper"], os.environ)
    return SweeperConfig(table_name=values[env.TABLE_NAME.name], queue_url=values[env.QUEUE_URL.name],
                         grace_seconds=values[env.SWEEP_GRACE_SECONDS.name], stack_name=values[env.STACK_NAME.name])


@functools.cache
def dynamodb():
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def sqs():
    return boto3.client("sqs", config=CLIENT_CONFIG)


@functools.cache
def events():
    return boto3.client("events", config=CLIENT_CONFIG)


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


CACHED = (receiver_config, processor_config, sweeper_config, dynamodb, sqs, events, secretsmanager, signing_secrets,
          logs.threshold)


def reset() -> None:
    """Forget configuration and clients, as a new container would (tests)."""
    for getter in CACHED:
        getter.cache_clear()
