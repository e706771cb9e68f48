"""`webhookctl requeue`: the sweeper's own logic (webhook_common.requeue), run on demand against a stack."""

from __future__ import annotations

from typing import Any

from webhookctl.handlers.webhook_common.requeue import RequeueResult, StuckEvent, requeue, stuck_events

__all__ = ["RequeueResult", "StuckEvent", "requeue", "requeue_stuck", "stuck_events"]


def requeue_stuck(sqs: Any, dynamodb: Any, stack: Any, stored_before_ms: int, *, dry_run: bool) -> RequeueResult:
    """Find the stack's stuck events and (unless dry_run) enqueue them."""
    from webhookctl.handlers.webhook_common.contract import stack as outputs

    table, queue_url = stack.require(outputs.TABLE_NAME), stack.require(outputs.PROCESSING_QUEUE_URL)
    events = list(stuck_events(dynamodb, table, stored_before_ms))
    if dry_run or not events:
        return RequeueResult(found=events, dry_run=dry_run)
    return requeue(sqs, dynamodb, table, queue_url, events)
