"""A deployed-looking pipeline on the shared emulator (moto on 127.0.0.1), and a Stubber'd CloudFormation.

CloudFormation under moto ignores alarms and secrets (moto-notes §1), so the pipeline's resources are made
with the service APIs and the stack's outputs are served by a botocore Stubber.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from click.testing import CliRunner, Result

from webhookctl.cli import cli
from webhookctl.edge.aws import AwsClients
from webhookctl.edge.clock import SYSTEM_CLOCK, Clock
from webhookctl.edge.context import AppContext

REGION = "us-east-1"
SUFFIX = "ops"
STACK = f"payment-webhooks-{SUFFIX}"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(autouse=True)
def _quiet_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's in-process server logs each 500 (e.g. the move-task calls it lacks) through werkzeug; with a
    handler writing to sys.stdout installed by other tests, that text would land in CliRunner's stdout."""
    import logging

    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)


@pytest.fixture
def aws(clean_emulator: Any) -> Callable[[str], Any]:
    """A client factory on the session's emulator, emptied for this test (tests/conftest.py; fake
    credentials come from there too). No retries, so moto's 500s surface at once."""
    config = Config(retries={"mode": "standard", "max_attempts": 1})
    return lambda service: boto3.client(service, endpoint_url=clean_emulator.url, region_name=REGION,
                                        config=config, **FAKE_CREDENTIALS)


def stubbed_cloudformation(outputs: dict[str, str], calls: int = 4) -> Any:
    """A CloudFormation client answering describe_stacks for STACK with these outputs."""
    client = boto3.client("cloudformation", region_name=REGION, **FAKE_CREDENTIALS)
    stubber = Stubber(client)
    stack = {"StackName": STACK, "StackStatus": "UPDATE_COMPLETE",
             "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
             "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}
    for _ in range(calls):
        stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
    stubber.activate()
    return client


@dataclass
class Pipeline:
    """The operated resources on moto, and their outputs as the stack would publish them."""

    aws: Callable[[str], Any]
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def sqs(self) -> Any:
        return self._client("sqs")

    @property
    def cloudwatch(self) -> Any:
        return self._client("cloudwatch")

    @property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager")

    @property
    def logs(self) -> Any:
        return self._client("logs")

    def _client(self, service: str) -> Any:
        cache = self.__dict__.setdefault("_clients", {})
        if service not in cache:
            cache[service] = self.aws(service)
        return cache[service]

    @property
    def queue_url(self) -> str:
        return self.outputs["ProcessingQueueUrl"]

    @property
    def dlq_url(self) -> str:
        return self.outputs["DeadLetterQueueUrl"]

    def app(self, *, clock: Clock = SYSTEM_CLOCK, terminal: bool = False, **overrides: Any) -> AppContext:
        clients = {"cloudformation": stubbed_cloudformation(self.outputs), "sqs": self.sqs,
                   "cloudwatch": self.cloudwatch, "secretsmanager": self.secretsmanager, "logs": self.logs,
                   **overrides}
        return AppContext(prepared_clients=AwsClients(**clients), clock=clock, is_terminal=lambda: terminal)

    def invoke(self, *args: str, input: str | None = None, clock: Clock = SYSTEM_CLOCK, terminal: bool = False,
               **overrides: Any) -> Result:
        return CliRunner().invoke(cli, list(args), obj=self.app(clock=clock, terminal=terminal, **overrides),
                                  input=input)

    def counts(self, url: str) -> tuple[int, int, int]:
        from webhookctl.operate.dlq import queue_counts

        return queue_counts(self.sqs, url)


def webhook_message(index: int, provider: str = "stripe",
                    event_type: str = "payment_intent.succeeded") -> dict:
    """send_message kwargs following the queue contract (body = item key only; routing in attributes)."""
    return {"MessageBody": json.dumps({"webhookId": f"evt_{index:04d}", "timestamp": 1767225600 + index}),
            "MessageAttributes": {"provider": {"DataType": "String", "StringValue": provider},
                                  "eventType": {"DataType": "String", "StringValue": event_type}}}


def fill(sqs: Any, url: str, messages: list[dict]) -> None:
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), **m} for i, m in enumerate(messages[start:start + 10])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def drain(sqs: Any, url: str) -> list[dict]:
    """Every message on a queue (received for 10 minutes: tests look, then throw the queue away)."""
    found: dict[str, dict] = {}
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return list(found.values())
        found.update((m["MessageId"], m) for m in batch)


def contents(messages: list[dict]) -> list[tuple[str, dict]]:
    """(body, attributes) pairs, sorted: what a redrive must preserve."""
    return sorted((m["Body"], json.dumps(m.get("MessageAttributes", {}), sort_keys=True)) for m in messages)


ALARMS = {"DlqDepthAlarmName": f"webhook-dlq-depth-{SUFFIX}",
          "ProcessorErrorsAlarmName": f"webhook-processor-errors-{SUFFIX}"}


def queue_arn_of(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@pytest.fixture
def pipeline(aws: Callable[[str], Any]) -> Pipeline:
    p = Pipeline(aws)
    sqs = p.sqs
    dlq_url = sqs.create_queue(QueueName=f"webhook-dlq-{SUFFIX}",
                               Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = queue_arn_of(sqs, dlq_url)
    queue_url = sqs.create_queue(QueueName=f"webhook-processing-{SUFFIX}", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    queue_arn = queue_arn_of(sqs, queue_url)
    for name in ALARMS.values():
        p.cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": f"webhook-dlq-{SUFFIX}"}], Statistic="Maximum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching")
    secret_arn = p.secretsmanager.create_secret(Name=f"webhook-signing-secrets-{SUFFIX}",
                                                SecretString="{}")["ARN"]
    groups = {}
    for function in ("receiver", "processor", "audit"):
        groups[f"{function.capitalize()}LogGroupName"] = f"/aws/lambda/webhook-{function}-{SUFFIX}"
        p.logs.create_log_group(logGroupName=groups[f"{function.capitalize()}LogGroupName"])
    p.outputs = {"ProcessingQueueUrl": queue_url, "ProcessingQueueArn": queue_arn,
                 "DeadLetterQueueUrl": dlq_url, "DeadLetterQueueArn": dlq_arn, "SigningSecretArn": secret_arn,
                 **ALARMS, **groups}
    return p
