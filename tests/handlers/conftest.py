"""Handler fixtures: an in-process moto account with the table, queues and signing secret, and event builders.

The handlers are imported as Lambda imports them (`import receiver`, pytest's `pythonpath = handlers`).
`runtime.reset()` runs around every test, so each test's moto is in place before the first client is made.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from webhook_common import runtime
from webhook_common.providers import sign_request

from tests.conftest import table_definition

TABLE = "PaymentWebhooks-test"
QUEUE = "webhook-processing-test"
DLQ = "webhook-dlq-test"
SECRET_NAME = "webhook-signing-secrets-test"
BUS = "payment-events-test"
NOTIFICATION_URL = "https://hooks.example.com/prod/webhook/square"

# One active secret per provider, in each provider's own format.
SECRETS = {
    "stripe": "whsec_test_5c1b7e0f2a9d4e6b8c3a1f0e9d8c7b6a",
    "standard": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "square": "Ibxx_5AKakO-3qeNVR61Dw",
    "adyen": "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    "checkout": "cko_wh_sig_0f3c5a7e9b1d",
    "razorpay": "rzp_webhook_secret_42",
    "paddle": "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI",
    "github": "It's a Secret to Everybody",
}
OPTIONS = {"square": {"notificationUrl": NOTIFICATION_URL}}


def secret_document(secrets: dict[str, list[str]] | None = None) -> str:
    entries: dict[str, Any] = {}
    for provider, values in (secrets or {p: [s] for p, s in SECRETS.items()}).items():
        options = OPTIONS.get(provider)
        entries[provider] = {"secrets": values, **options} if options else values
    return json.dumps(entries)


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    secretsmanager: Any
    queue_url: str
    dlq_url: str
    secret_arn: str
    captured_url: str = ""

    def published(self) -> list[dict]:
        """Every EventBridge event published so far (each once), oldest first: source, type, detail."""
        found = self.__dict__.setdefault("_published", [])
        while batch := self.sqs.receive_message(QueueUrl=self.captured_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                event = json.loads(message["Body"])
                found.append({"source": event["source"], "detailType": event["detail-type"],
                              "detail": event["detail"]})
                self.sqs.delete_message(QueueUrl=self.captured_url, ReceiptHandle=message["ReceiptHandle"])
        return list(found)

    def items(self) -> list[dict]:
        """The stored events (tombstones and payment ordering records left out: see their own methods)."""
        return [i for i in self.all_items() if i["timestamp"]["S"] == "event"]

    def payments(self) -> list[dict]:
        return [i for i in self.all_items() if i["timestamp"]["S"] == "latest"]

    def tombstones(self) -> list[dict]:
        return [i for i in self.all_items() if i["timestamp"]["S"] == "tombstone"]

    def all_items(self) -> list[dict]:
        return self.dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]

    def item(self, webhook_id: str) -> dict | None:
        key = {"webhookId": {"S": webhook_id}, "timestamp": {"S": "event"}}
        return self.dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")

    def messages(self, queue_url: str | None = None) -> list[dict]:
        """Every visible message, made visible again at once (tests only look)."""
        found = self.sqs.receive_message(
            QueueUrl=queue_url or self.queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=0,
        )
        return found.get("Messages", [])

    def drain(self) -> list[dict]:
        """Receive and delete every message on the processing queue, as SQS records for the processor."""
        records = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", []):
            for message in batch:
                records.append(sqs_record(message))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return records

    def set_secrets(self, secrets: dict[str, list[str]]) -> None:
        self.secretsmanager.put_secret_value(SecretId=self.secret_arn, SecretString=secret_document(secrets))


def create_resources() -> Aws:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName=TABLE, **table_definition())
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=QUEUE,
        Attributes={
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    secretsmanager = boto3.client("secretsmanager")
    arn = secretsmanager.create_secret(Name=SECRET_NAME, SecretString=secret_document())["ARN"]
    return Aws(dynamodb, sqs, secretsmanager, queue_url, dlq_url, arn, capture_bus(sqs))


def capture_bus(sqs) -> str:
    """The stack's bus, and a rule sending every payment event to a queue the tests read (moto delivers)."""
    events = boto3.client("events")
    events.create_event_bus(Name=BUS)
    captured = sqs.create_queue(QueueName="captured-payment-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=captured, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="capture", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": "webhookctl."}]}))
    events.put_targets(Rule="capture", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
    return captured


@pytest.fixture(scope="session", autouse=True)
def faithful_moto() -> None:
    """moto as the emulator serves it: among other fixes, each DynamoDB request is atomic, which the
    concurrency tests need as much as AWS's conditional writes do."""
    from webhookctl.tryit.emulator import install_patches

    install_patches()


def log_lines(text: str) -> list[str]:
    """A function's stdout without its metric lines (embedded metric format: each holds an `_aws` object)."""
    return [line for line in text.splitlines() if not line.startswith('{"_aws":')]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """moto in-process with the stack's table, queues and secret; the functions' environment set."""
    with mock_aws():
        resources = create_resources()
        monkeypatch.setenv("TABLE_NAME", TABLE)
        monkeypatch.setenv("QUEUE_URL", resources.queue_url)
        monkeypatch.setenv("SIGNING_SECRETS_ARN", resources.secret_arn)
        # The documented samples are years old: a 10-year retention window accepts them (the replay-window
        # tests set their own).
        monkeypatch.setenv("EVENT_TTL_DAYS", "3650")
        monkeypatch.setenv("SECRETS_CACHE_SECONDS", "300")
        monkeypatch.setenv("EVENT_BUS_NAME", BUS)
        monkeypatch.setenv("STACK_NAME", "payment-webhooks-test")
        runtime.reset()
        yield resources
    runtime.reset()


@pytest.fixture(autouse=True)
def fresh_runtime():
    runtime.reset()
    yield
    runtime.reset()


def api_event(
    provider: str, body: bytes, headers: dict[str, str], *, method: str = "POST", as_base64: bool = False
) -> dict:
    """An API Gateway REST proxy event as Lambda receives it for /webhook/{provider}."""
    return {
        "resource": "/webhook/{provider}",
        "path": f"/webhook/{provider}",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "pathParameters": {"provider": provider},
        "requestContext": {
            "domainName": "hooks.example.com",
            "path": f"/prod/webhook/{provider}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
        },
        "body": base64.b64encode(body).decode() if as_base64 else body.decode("utf-8"),
        "isBase64Encoded": as_base64,
    }


def signed_event(
    provider: str,
    payload: dict | bytes,
    *,
    now: int | None = None,
    secret: str | None = None,
    options: dict | None = None,
    as_base64: bool = False,
) -> dict:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    body, headers = sign_request(
        provider,
        body,
        secret or SECRETS[provider],
        int(time.time()) if now is None else now,
        OPTIONS.get(provider, {}) | (options or {}),
    )
    return api_event(provider, body, headers, as_base64=as_base64)


def sqs_record(message: dict) -> dict:
    """An SQS event record as Lambda hands it to the processor."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message.get("ReceiptHandle", "handle"),
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            k: {"stringValue": v.get("StringValue"), "dataType": v["DataType"]}
            for k, v in message.get("MessageAttributes", {}).items()
        },
        "eventSource": "aws:sqs",
    }


def stream_records(aws: Aws) -> list[dict]:
    """The table's stream records, shaped as Lambda hands them to the audit function."""
    from botocore.config import Config

    arn = aws.dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    # moto's in-process interceptor misses the account-scoped streams host botocore picks by default.
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            stream = dict(record["dynamodb"])
            stream["ApproximateCreationDateTime"] = stream["ApproximateCreationDateTime"].timestamp()
            records.append({**record, "dynamodb": stream, "eventSourceARN": arn})
    return records


def status_changes(aws: Aws) -> list[tuple[str, str | None, str | None]]:
    """(webhookId, old status, new status) for every write of an event item, in stream order (payment
    ordering records and tombstones left out)."""

    def status(image: dict | None) -> str | None:
        return (image or {}).get("status", {}).get("S")

    return [
        (
            r["dynamodb"]["Keys"]["webhookId"]["S"],
            status(r["dynamodb"].get("OldImage")),
            status(r["dynamodb"].get("NewImage")),
        )
        for r in stream_records(aws)
        if r["dynamodb"]["Keys"]["timestamp"]["S"] == "event"
    ]
