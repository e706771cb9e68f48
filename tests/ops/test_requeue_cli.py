"""`webhookctl requeue` on the emulator: stored-but-never-enqueued events are listed, then enqueued."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import table_definition
from tests.ops.conftest import SUFFIX, drain
from webhookctl.handlers.webhook_common.contract import store

pytestmark = pytest.mark.slow
TABLE = f"PaymentWebhooks-{SUFFIX}"


def item(webhook: str, status: str, received_at: str) -> dict[str, Any]:
    """An event item as the receiver writes it (a RECEIVED one carries the Pending index's key)."""
    pending = {store.PENDING_KEY: {"S": store.pending_key(webhook)}} if status == "RECEIVED" else {}
    return {"webhookId": {"S": webhook}, "timestamp": {"S": "event"}, "provider": {"S": "adyen"},
            "eventType": {"S": "AUTHORISATION"}, "status": {"S": status}, "receivedAt": {"S": received_at},
            **pending}


@pytest.fixture
def table(pipeline: Any) -> Any:
    dynamodb = pipeline.aws("dynamodb")
    dynamodb.create_table(TableName=TABLE, **table_definition())
    for entry in (item("adyen#old-stuck", "RECEIVED", "2026-01-01T00:00:00.000Z"),
                  item("adyen#old-done", "PROCESSED", "2026-01-01T00:00:00.000Z"),
                  item("adyen#just-now", "RECEIVED", "2999-01-01T00:00:00.000Z")):
        dynamodb.put_item(TableName=TABLE, Item=entry)
    pipeline.outputs["TableName"] = TABLE
    return dynamodb


def test_dry_run_lists_only_old_received_events_and_enqueues_nothing(pipeline: Any, table: Any) -> None:
    result = pipeline.invoke("requeue", "--suffix", SUFFIX, "--dry-run", "--format", "json", dynamodb=table)
    assert result.exit_code == 0, result.output
    assert [e["webhookId"] for e in json.loads(result.stdout)] == ["adyen#old-stuck"]
    assert "1 event(s) stored more than 15m ago were never enqueued; nothing enqueued" in result.stderr
    assert drain(pipeline.sqs, pipeline.queue_url) == []


def test_requeue_enqueues_and_marks_them(pipeline: Any, table: Any) -> None:
    result = pipeline.invoke("requeue", "--suffix", SUFFIX, dynamodb=table)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().endswith("enqueued 1 of 1, failed 0")
    (message,) = drain(pipeline.sqs, pipeline.queue_url)
    assert json.loads(message["Body"]) == {"webhookId": "adyen#old-stuck", "timestamp": "event"}
    key = {"webhookId": {"S": "adyen#old-stuck"}, "timestamp": {"S": "event"}}
    assert table.get_item(TableName=TABLE, Key=key)["Item"]["status"]["S"] == "ENQUEUED"


def test_a_bad_older_than_is_a_usage_error(pipeline: Any, table: Any) -> None:
    result = pipeline.invoke("requeue", "--suffix", SUFFIX, "--older-than", "soon", dynamodb=table)
    assert result.exit_code == 2
    assert "--older-than 'soon' is neither a duration" in result.stderr
