"""DynamoDB: each request applied atomically, as the handlers' conditional writes assume."""

from __future__ import annotations

import threading
from typing import Any

from webhookctl.tryit.emulator.probe import ACCOUNT, REGION, Probe


def patch_atomic_requests() -> None:
    """DynamoDB applies each request atomically, and the handlers' exactly-once design rests on that
    (conditional writes). moto mutates items step by step with no lock, so with concurrent callers a reader can
    see half an update, or two conditional writers can both win: one lock per request."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with DynamoHandler.request_lock:
            return original(self)

    DynamoHandler.request_lock = threading.RLock()
    DynamoHandler.call_action = call_action
    _read_tables_from_stacks_under(DynamoHandler.request_lock)


def _read_tables_from_stacks_under(lock: Any) -> None:
    """CloudFormation reads a table too, outside DynamoDB's requests: DescribeStacks resolves an Output's GetAtt
    through Table.describe(), which iterates the items another thread may be writing ("dictionary changed size
    during iteration", a 500, seen with 2,000 webhooks in the sandbox). Those reads take the same lock."""
    from moto.dynamodb.models.table import Table

    original = Table.get_cfn_attribute

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        with lock:
            return original(self, attribute_name)

    Table.get_cfn_attribute = get_cfn_attribute


def dynamodb_has_no_lock(aws: Probe) -> bool:
    """Structural: a race cannot be provoked deterministically, so look for any lock in moto's DynamoDB request
    handler, backend or table (the patch adds one to the handler); one in moto means it may serialise requests
    itself: check that, then delete the patch."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.responses import DynamoHandler

    aws.client("dynamodb").create_table(
        TableName="probe", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    backend = dynamodb_backends[ACCOUNT][REGION]
    locks = (type(threading.Lock()), type(threading.RLock()), threading.Condition, threading.Semaphore)
    holders = (vars(DynamoHandler), vars(backend), vars(backend.get_table("probe")))
    return not any(isinstance(value, locks) for holder in holders for value in holder.values())
