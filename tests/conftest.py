"""Fixtures every test directory shares.

- Every test runs with fake AWS credentials and a fixed region, and with the user's AWS config files,
  profile and endpoint hidden: no test can reach real AWS, whatever the machine has configured.
- `emulator`: one local AWS emulator (webhookctl.tryit.emulator, moto's server on 127.0.0.1) for the
  whole session. Ask for `clean_emulator` instead to start from an empty account (a reset costs a few ms).
- `emulator_clients(emulator)` / `emulator_app(emulator)`: AwsClients / AppContext pointed at it, for
  calling services directly or `CliRunner().invoke(cli, [...], obj=emulator_app(emulator))`.
- Property tests are derandomised, so `make test` is the same run everywhere and CI never fails on an example
  no one has seen; `HYPOTHESIS_PROFILE=explore make test` searches fresh examples.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from webhookctl.edge.aws import AwsClients, AwsTarget
from webhookctl.edge.context import AppContext
from webhookctl.tryit.functions import lambda_layout

settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Tests import the handlers as Lambda does (`import receiver`, `from webhook_common import ...`); those names
# are aliases of the installed modules, so handler tests, CLI tests and the sandbox share one copy.
lambda_layout()

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials and region; real profiles, config files and endpoints out of reach."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    missing = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(missing))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    """The session's emulator (started on first use, stopped at the end): `.url`, `.reset()`."""
    from webhookctl.tryit.emulator import start_emulator

    with start_emulator() as running:
        yield running


@pytest.fixture
def clean_emulator(emulator: Any) -> Iterator[Any]:
    """The session's emulator, emptied for this test, and emptied again after it (others share it)."""
    emulator.reset()
    yield emulator
    emulator.reset()


def emulator_clients(emulator: Any, region: str = REGION, **prepared: Any) -> AwsClients:
    """Clients for the emulator; `prepared` replaces some (e.g. cloudformation=a_fake)."""
    return AwsClients(AwsTarget(region=region, endpoint_url=emulator.url), **prepared)


def emulator_app(emulator: Any, region: str = REGION, **prepared: Any) -> AppContext:
    """An AppContext whose commands talk to the emulator (pass as `obj=` to CliRunner.invoke)."""
    return AppContext(region=region, endpoint_url=emulator.url,
                      prepared_clients=emulator_clients(emulator, region, **prepared))


def table_definition() -> dict:
    """The webhook table as the stack defines it (keys, indexes, stream), for CreateTable."""
    from webhookctl.building.render import template_dict
    from webhookctl.templates import Settings

    props = template_dict(Settings())["Resources"]["WebhookTable"]["Properties"]
    wanted = ("BillingMode", "KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")
    return {**{k: props[k] for k in wanted if k in props},
            "StreamSpecification": {"StreamEnabled": True, **props["StreamSpecification"]}}
