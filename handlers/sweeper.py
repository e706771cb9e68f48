"""The sweeper Lambda: on a schedule, enqueue the events the receiver stored but never got onto the queue.

The receiver answers a provider only once an event is both stored and enqueued; when AWS fails between the
two, the provider's retry finishes the job, but GitHub never retries and every provider gives up in the end.
Such events carry the table's sparse pending key (webhook_common.requeue finds them without a scan); the
sweeper enqueues those older than the grace period (younger ones may still be in a receiver's hands) and
reports how many it found and how old the oldest still waiting is, as metrics the stack's alarms read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from webhook_common import contract, logs, metrics, requeue, runtime
from webhook_common.contract import metrics as metric_names


def handler(event: dict, context: Any) -> dict[str, int]:
    with logs.bound(**logs.invocation(context)):
        return sweep(runtime.dynamodb(), runtime.sqs(), runtime.sweeper_config())


def sweep(dynamodb: Any, sqs: Any, config: runtime.SweeperConfig,
          clock: Callable[[], float] = time.time) -> dict[str, int]:
    now = clock()
    stuck = list(requeue.stuck_events(dynamodb, config.table_name, int((now - config.grace_seconds) * 1000)))
    result = requeue.requeue(sqs, dynamodb, config.table_name, config.queue_url, stuck)
    age = pending_age(requeue.oldest_pending(dynamodb, config.table_name), now)
    metrics.emit({metric_names.STUCK_EVENTS: len(stuck), metric_names.OLDEST_UNPROCESSED_AGE: age},
                 {metric_names.STACK: config.stack_name})
    summary = {"found": len(stuck), "enqueued": result.enqueued, "failed": result.failed,
               "oldestPendingAgeSeconds": age}
    logs.log("WARNING" if stuck else "INFO", "sweep", **summary)
    return summary


def pending_age(received_at: str | None, now: float) -> int:
    """Whole seconds since RECEIVED_AT (an item time), 0 when nothing waits."""
    if not received_at:
        return 0
    return max(0, int(now - contract.item_seconds(received_at)))
