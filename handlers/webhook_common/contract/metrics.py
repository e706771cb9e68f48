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

PUBLISH_FAILED = "PublishFailed"  # processor: payment events EventBridge did not take (each record retried)
STUCK_EVENTS = "StuckEvents"  # sweeper: events found stored but never enqueued, at each sweep
OLDEST_UNPROCESSED_AGE = "OldestUnprocessedAgeSeconds"  # sweeper: age of the oldest event not yet processed
