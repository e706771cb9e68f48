"""`connect` / `reconcile` fixtures: the ops pipeline on the emulator (plus the table and the bus), the fake
provider APIs on 127.0.0.1 with webhookctl pointed at them, the real receiver to deliver events as a provider
would, and the real processor to take them to PROCESSED."""

from __future__ import annotations

import importlib
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import table_definition
from tests.ops.conftest import SUFFIX, Pipeline, _quiet_emulator, aws, pipeline  # noqa: F401 - fixtures
from tests.providers.fakes import FakeApi, FakeGithub, FakePaddle, FakeSquare, FakeStripe, serving
from webhookctl.edge.clock import Clock

TABLE = f"PaymentWebhooks-{SUFFIX}"
BUS = f"payment-events-{SUFFIX}"
WEBHOOK_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/live/webhook/"
REPO = "acme/shop"
RECEIVER = f"webhook-receiver-{SUFFIX}"
# The receiver's retention as the stage's receiver function is configured (and `_receiver_deps` applies it).
RETENTION = {"EVENT_TTL_DAYS": "90", "REPLAY_GUARD_DAYS": "400"}


@dataclass
class Stage:
    """The pipeline, a fixed clock whose sleeps are recorded, and the handlers' entry points."""

    pipeline: Pipeline
    dynamodb: Any
    now: float
    sleeps: list[float] = field(default_factory=list)
    while_sleeping: list[Callable[[], None]] = field(default_factory=list)  # what "happens" during a sleep

    @property
    def clock(self) -> Clock:
        return Clock(sleep=self._sleep, monotonic=lambda: self.now, time=lambda: self.now)

    def _sleep(self, seconds: float) -> None:
        """Recorded, not slept; a fake provider's pending deliveries (`settle`) happen meanwhile."""
        self.sleeps.append(seconds)
        for happen in self.while_sleeping:
            happen()

    def invoke(self, *args: str) -> Result:
        return self.pipeline.invoke(*args, clock=self.clock, dynamodb=self.dynamodb,
                                    **{"lambda": self.pipeline.aws("lambda")})

    def configure_receiver(self, **variables: str) -> None:
        """Change the receiver function's environment, as a deploy with other settings would."""
        self.pipeline.aws("lambda").update_function_configuration(FunctionName=RECEIVER, Environment={
            "Variables": {**RETENTION, **variables}})

    def secrets(self, provider: str) -> list[str]:
        document = json.loads(self.pipeline.secretsmanager.get_secret_value(
            SecretId=self.pipeline.outputs["SigningSecretArn"])["SecretString"])
        entry = document.get(provider, [])
        return entry["secrets"] if isinstance(entry, dict) else entry

    def deliver(self, provider: str, body: bytes, headers: dict[str, str]) -> dict:
        """POST /webhook/PROVIDER as API Gateway hands it to the real receiver."""
        from tests.handlers.conftest import api_event

        receiver = importlib.import_module("receiver")
        return receiver.receive(api_event(provider, body, headers), self._receiver_deps(receiver))

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """What a provider's POST to the stack's WEBHOOK_URL + provider gets: the receiver's status code
        (a fake provider's `transport`: this stage has no HTTP endpoint)."""
        assert url.startswith(WEBHOOK_URL), f"{url} is not this stack's webhook URL"
        return self.deliver(url.removeprefix(WEBHOOK_URL), body, headers)["statusCode"]

    def _receiver_deps(self, receiver: Any) -> Any:
        secrets_cache = importlib.import_module("webhook_common.secrets").SecretsCache
        arn = self.pipeline.outputs["SigningSecretArn"]
        fetch = lambda: self.pipeline.secretsmanager.get_secret_value(SecretId=arn)["SecretString"]  # noqa: E731
        config = receiver.runtime.ReceiverConfig(TABLE, self.pipeline.queue_url, arn, int(RETENTION["EVENT_TTL_DAYS"]),
                                                 int(RETENTION["REPLAY_GUARD_DAYS"]), 0)
        return receiver.Deps(self.dynamodb, self.pipeline.sqs, secrets_cache(fetch, 0), config, lambda: self.now)

    def process(self) -> dict:
        """Every message on the processing queue through the real processor; its batch response."""
        from tests.handlers.conftest import sqs_record

        processor = importlib.import_module("processor")
        records = []
        while batch := self.pipeline.sqs.receive_message(
                QueueUrl=self.pipeline.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                VisibilityTimeout=600).get("Messages", []):
            records += [sqs_record(m) for m in batch]
        config = processor.runtime.ProcessorConfig(TABLE, BUS, False, f"payment-webhooks-{SUFFIX}")
        return processor.process_batch(records, self.dynamodb, self.pipeline.aws("events"), config)

    def item(self, webhook_id: str) -> dict | None:
        return self.dynamodb.get_item(TableName=TABLE, ConsistentRead=True, Key={
            "webhookId": {"S": webhook_id}, "timestamp": {"S": "event"}}).get("Item")

    def delete(self, webhook_id: str) -> None:
        self.dynamodb.delete_item(TableName=TABLE, Key={"webhookId": {"S": webhook_id}, "timestamp": {"S": "event"}})


@pytest.fixture
def stage(pipeline: Pipeline) -> Stage:  # noqa: F811 - the ops fixture, extended
    dynamodb = pipeline.aws("dynamodb")
    dynamodb.create_table(TableName=TABLE, **table_definition())
    pipeline.aws("events").create_event_bus(Name=BUS)
    receiver_function(pipeline.aws)
    pipeline.outputs.update({"TableName": TABLE, "WebhookUrl": WEBHOOK_URL, "EventBusName": BUS,
                             "ReceiverFunctionName": RECEIVER})
    return Stage(pipeline, dynamodb, float(int(time.time())))


def receiver_function(client: Any) -> None:
    """The receiver function as deployed (moto never runs it): what `reconcile --backfill` reads its
    retention from."""
    role = client("iam").create_role(RoleName=f"webhook-receiver-role-{SUFFIX}", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("receiver.py", "def handler(event, context):\n    return None\n")
    client("lambda").create_function(FunctionName=RECEIVER, Runtime="python3.11", Role=role, Handler="receiver.handler",
                                  Code={"ZipFile": code.getvalue()}, Environment={"Variables": dict(RETENTION)})


def unreachable(url: str, body: bytes, headers: dict[str, str]) -> int:
    """The fakes' transport until a test gives them one: nothing leaves the machine, nothing answers."""
    return 0


@pytest.fixture
def fake_stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    api = FakeStripe()
    api.transport = unreachable
    with serving(api) as base:
        monkeypatch.setenv("WEBHOOKCTL_STRIPE_API_BASE", base)
        monkeypatch.setenv("STRIPE_API_KEY", api.token)
        yield api


@pytest.fixture
def fake_github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGithub]:
    api = FakeGithub(REPO)
    api.transport = unreachable
    with serving(api) as base:
        monkeypatch.setenv("WEBHOOKCTL_GITHUB_API_BASE", base)
        monkeypatch.setenv("GITHUB_TOKEN", api.token)
        monkeypatch.setenv("WEBHOOKCTL_GITHUB_TARGET", REPO)
        yield api


def _served(monkeypatch: pytest.MonkeyPatch, api: FakeApi, base_env: str, variable: str) -> Iterator[FakeApi]:
    api.transport = unreachable
    with serving(api) as base:
        monkeypatch.setenv(base_env, base)
        monkeypatch.setenv(variable, api.token)
        yield api


@pytest.fixture
def fake_square(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    yield from _served(monkeypatch, FakeSquare(), "WEBHOOKCTL_SQUARE_API_BASE", "SQUARE_ACCESS_TOKEN")


@pytest.fixture
def fake_paddle(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    yield from _served(monkeypatch, FakePaddle(), "WEBHOOKCTL_PADDLE_API_BASE", "PADDLE_API_KEY")
