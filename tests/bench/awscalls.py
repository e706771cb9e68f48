"""Counting the AWS API calls made inside one process, by who made them: a handler, or the sandbox around it.

The sandbox's handlers reach the emulator in-process (moto's interception, no HTTP), so a WSGI middleware on
moto's server would see none of their calls. Every boto3 call, in-process or not, goes through
`botocore.client.BaseClient._make_api_call`: the recorder wraps it (in this process, for the bench and the
cost tests only; nothing in webhookctl/ or handlers/ changes). A call is the handler's when it is made while
that handler runs in the calling thread (the sandbox runs each handler in the thread that polls for it, so
the thread alone cannot tell); everything else is the sandbox's own machinery (its pollers, log shipper,
alarm evaluator) or the bench's (marked with `ignoring()`).

For DynamoDB writes the recorder also snapshots the item before and after (read from moto's in-memory
backend, not through the API, so nothing extra is counted), which is what write request units depend on.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SANDBOX = "sandbox"
IGNORED = "bench"
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass
class Call:
    origin: str  # a function role ("receiver", ...), SANDBOX, or IGNORED
    service: str  # botocore's service name: dynamodb, sqs, events, ...
    operation: str
    params: dict[str, Any]
    ok: bool
    error_code: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] | None = None  # DynamoDB writes: the item before / after (typed JSON)
    after: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass
class Invocation:
    role: str
    records: int  # SQS/stream records in the event (0 for API Gateway and schedule events)
    wall_s: float
    cpu_s: float  # this thread's CPU time in the handler
    aws_wall_s: float  # of which inside AWS calls (moto's work, in-process)
    aws_cpu_s: float
    aws_calls: int

    @property
    def own_cpu_s(self) -> float:
        """CPU time of the handler's own code: what would also run on Lambda."""
        return max(0.0, self.cpu_s - self.aws_cpu_s)


class _State(threading.local):
    origin: str | None = None
    aws_wall: float = 0.0
    aws_cpu: float = 0.0
    aws_calls: int = 0


class CallRecorder:
    """Records every boto3 call in this process while installed; `install()` is idempotent."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._state = _State()
        self._original: Any = None

    # --- installing ------------------------------------------------------------------------------------

    def install(self) -> CallRecorder:
        from botocore.client import BaseClient

        if self._original is not None:
            return self
        original = BaseClient._make_api_call
        recorder = self

        @functools.wraps(original)
        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            return recorder._call(original, client, operation_name, api_params)

        self._original = original
        BaseClient._make_api_call = make_api_call
        return self

    def uninstall(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            BaseClient._make_api_call = self._original
            self._original = None

    def wrap_functions(self, functions: dict[str, Any]) -> None:
        """Tag each sandbox function's handler with its role (LocalFunction calls `self.handler` per invocation)."""
        for role, function in functions.items():
            if not getattr(function.handler, "_recorded", False):
                function.handler = self._tagged(role, function.handler)

    # --- reading -----------------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.invocations.clear()

    def snapshot(self) -> tuple[list[Call], list[Invocation]]:
        with self._lock:
            return list(self.calls), list(self.invocations)

    def counts(self, origin: str | None = None) -> Counter[str]:
        calls, _ = self.snapshot()
        return Counter(c.name for c in calls if origin is None or c.origin == origin)

    @contextlib.contextmanager
    def ignoring(self) -> Iterator[None]:
        """Calls made by this thread inside the block are the bench's own (waiting, probing): not counted."""
        previous, self._state.origin = self._state.origin, IGNORED
        try:
            yield
        finally:
            self._state.origin = previous

    # --- the hooks ---------------------------------------------------------------------------------------

    def _tagged(self, role: str, handler: Any) -> Any:
        recorder = self

        def handler_with_role(event: Any, context: Any) -> Any:
            state = recorder._state
            saved = (state.origin, state.aws_wall, state.aws_cpu, state.aws_calls)
            state.origin, state.aws_wall, state.aws_cpu, state.aws_calls = role, 0.0, 0.0, 0
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return handler(event, context)
            finally:
                records = len(event.get("Records") or []) if isinstance(event, dict) else 0
                done = Invocation(role, records, time.perf_counter() - wall, time.thread_time() - cpu,
                                  state.aws_wall, state.aws_cpu, state.aws_calls)
                with recorder._lock:
                    recorder.invocations.append(done)
                state.origin, state.aws_wall, state.aws_cpu, state.aws_calls = saved

        handler_with_role._recorded = True  # type: ignore[attr-defined]
        return handler_with_role

    def _call(self, original: Any, client: Any, operation: str, params: dict[str, Any]) -> Any:
        state = self._state
        origin = state.origin or SANDBOX
        service = client.meta.service_model.service_name
        before = _item(params) if service == "dynamodb" and operation in DYNAMODB_WRITES else None
        wall, cpu = time.perf_counter(), time.thread_time()
        call = Call(origin, service, operation, _plain(params), ok=True)
        try:
            result = original(client, operation, params)
            call.result = _summary(service, operation, result)
            return result
        except Exception as error:
            call.ok = False
            call.error_code = str(getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__))
            raise
        finally:
            elapsed = time.perf_counter() - wall
            call.seconds = elapsed
            if origin not in (SANDBOX, IGNORED):
                state.aws_wall += elapsed
                state.aws_cpu += time.thread_time() - cpu
                state.aws_calls += 1
            if before is not None or (service == "dynamodb" and operation in DYNAMODB_WRITES):
                call.before, call.after = before, _item(params)
            with self._lock:
                self.calls.append(call)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return dict(params)


def _summary(service: str, operation: str, result: Any) -> dict[str, Any]:
    """What the cost model needs of an answer: messages received, items read."""
    if not isinstance(result, dict):
        return {}
    if service == "sqs" and operation == "ReceiveMessage":
        return {"messages": len(result.get("Messages", []))}
    if service == "dynamodb" and operation == "GetItem":
        return {"item": result.get("Item")}
    if service == "dynamodb" and operation == "Query":
        return {"items": result.get("Items", []), "count": result.get("Count", 0)}
    if service == "dynamodbstreams" and operation == "GetRecords":
        return {"records": len(result.get("Records", []))}
    return {}


# --- moto's DynamoDB items, read without an API call ----------------------------------------------------------


def _item(params: dict[str, Any]) -> dict[str, Any] | None:
    """The stored item a write names (typed JSON), straight from moto's backend; None when absent."""
    try:
        table = _moto_table(params["TableName"])
        key = params.get("Key") or params.get("Item") or {}
        from moto.dynamodb.models.dynamo_type import DynamoType

        hash_name, range_name = table.hash_key_attr, table.range_key_attr
        hash_key = DynamoType(key[hash_name])
        range_key = DynamoType(key[range_name]) if range_name and range_name in key else None
        found = table.get_item(hash_key, range_key)
    except Exception:  # noqa: BLE001 - a snapshot is best effort; the call itself is what matters
        return None
    return json.loads(json.dumps(found.to_json()["Attributes"])) if found is not None else None


def _moto_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    for account in list(dynamodb_backends.keys()):
        for region in list(dynamodb_backends[account].keys()):
            tables = dynamodb_backends[account][region].tables
            if name in tables:
                return tables[name]
    raise KeyError(name)
