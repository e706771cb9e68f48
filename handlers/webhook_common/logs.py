"""One JSON object per line on stdout, which Lambda ships to CloudWatch Logs: the one logger every function
writes through, so every field (ids and provider-controlled strings included) is redacted on the way out.

Every line carries the invocation's `requestId` and X-Ray `traceId`, and the `webhookId` once it is known
(`bound`), so one webhook can be followed across the functions (`webhookctl logs --webhook ID`).
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .contract.environment import LOG_LEVEL, ConfigError
from .redact import redact

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
# Per invocation (and per thread: the local sandbox runs invocations side by side).
_CONTEXT: contextvars.ContextVar[tuple[tuple[str, Any], ...]] = contextvars.ContextVar("log_context", default=())


@functools.cache
def threshold() -> int:
    """LOG_LEVEL, read once per container; a bad value means the default (logging must never fail)."""
    try:
        return LEVELS[LOG_LEVEL.read(os.environ)]
    except ConfigError:
        return LEVELS[LOG_LEVEL.default]


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add FIELDS (requestId, traceId, webhookId) to every line logged inside the block."""
    token = _CONTEXT.set(tuple({**dict(_CONTEXT.get()), **{k: v for k, v in fields.items() if v}}.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def invocation(context: Any, trace_id: str | None = None) -> dict[str, Any]:
    """The fields that name one invocation: Lambda's request id, and the X-Ray trace it belongs to."""
    return {"requestId": getattr(context, "aws_request_id", None),
            "traceId": trace_id or os.environ.get("_X_AMZN_TRACE_ID")}


def current() -> dict[str, Any]:
    return dict(_CONTEXT.get())


def log(level: str, message: str, **fields: Any) -> None:
    if LEVELS[level] >= threshold():
        write({"level": level, "message": message, **current(), **fields})


def write(record: dict[str, Any]) -> None:
    sys.stdout.write(format_line(record) + "\n")


def format_line(record: dict[str, Any], *, trusted: tuple[str, ...] = ()) -> str:
    """One redacted JSON line (card numbers masked, secrets and payloads dropped); `trusted` names fields
    that are AWS's own metadata (a stream sequence number's digits are not a card number)."""
    redacted = redact({k: v for k, v in record.items() if k not in trusted})
    line = {**redacted, **{k: record[k] for k in trusted if k in record}}
    # ensure_ascii=False: a \uXXXX escape would add digits next to (masked) runs; see webhook_common.redact
    return json.dumps(line, default=str, separators=(",", ":"), ensure_ascii=False)
