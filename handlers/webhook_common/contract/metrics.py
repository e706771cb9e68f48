"""The functions' own CloudWatch metrics (embedded metric format): names the template's alarms and
dashboard read and the handlers write, in one namespace, per stack."""

from __future__ import annotations

NAMESPACE = "Webhookctl"
STACK = "Stack"  # dimension: the stack's name
PROVIDER = "Provider"  # dimension: the provider's name

PUBLISH_FAILED = "PublishFailed"  # processor: payment events EventBridge did not take (each record retried)
STUCK_EVENTS = "StuckEvents"  # sweeper: events found stored but never enqueued, at each sweep
OLDEST_UNPROCESSED_AGE = "OldestUnprocessedAgeSeconds"  # sweeper: age of the oldest event not yet processed
