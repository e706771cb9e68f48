"""The functions' own CloudWatch metrics (embedded metric format): names the template's alarms and
dashboard read and the handlers write, in one namespace, per stack."""

from __future__ import annotations

NAMESPACE = "Webhookctl"
STACK = "Stack"  # dimension: the stack's name
PROVIDER = "Provider"  # dimension: the provider's name

# receiver, one line per request, per provider ("unknown" for a path naming none): what it answered.
ACCEPTED = "Accepted"  # events stored and enqueued for the first time
DUPLICATES = "Duplicates"  # events it had already stored (a provider's retry, or a replay)
SIGNATURE_REJECTED = "SignatureRejected"  # 401: no valid signature under any configured secret
REJECTED = "Rejected"  # any other 4XX: malformed, too old, unknown provider
SERVER_ERRORS = "ServerErrors"  # 500: AWS failed or the secret is misconfigured; the provider retries

# processor, one line per batch per provider (and a Stack-only rollup): what became of its records.
PROCESSED = "Processed"  # records it marked PROCESSED or IGNORED (each once, by the copy whose write won)
FAILED = "Failed"  # records it named in batchItemFailures (SQS redelivers them; 3 receives → the DLQ)
END_TO_END_LATENCY = "EndToEndLatency"  # ms from the receiver's receivedAt to the processor finishing the record
MILLISECONDS = "Milliseconds"  # END_TO_END_LATENCY's unit; every other metric here is a Count

PUBLISH_FAILED = "PublishFailed"  # processor: payment events EventBridge did not take (each record retried)
STUCK_EVENTS = "StuckEvents"  # sweeper: events found stored but never enqueued, at each sweep
OLDEST_UNPROCESSED_AGE = "OldestUnprocessedAgeSeconds"  # sweeper: age of the oldest event not yet processed
