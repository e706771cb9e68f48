"""The stack's interface: the parameters deploy passes in and the outputs every command reads.

Each output has a role, so commands find "every alarm" or "the queue URLs" by role, never by matching
key suffixes, and never by rebuilding physical names.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import PROVIDERS

# Parameters: the content-addressed artifacts deploy uploads (so render needs no AWS).
ARTIFACT_BUCKET = "ArtifactBucket"
HANDLERS_KEY = "HandlersKey"
LAYER_KEY = "LayerKey"
ARTIFACT_KEYS = (HANDLERS_KEY, LAYER_KEY)
PARAMETERS = (ARTIFACT_BUCKET, HANDLERS_KEY, LAYER_KEY)

# Output roles.
ENDPOINT = "endpoint"
TABLE = "table"
STREAM = "stream"
QUEUE_URL = "queue-url"
QUEUE_ARN = "queue-arn"
BUS = "bus"
TOPIC = "topic"
SECRET = "secret"
KEY = "key"
FUNCTION = "function"
LOG_GROUP = "log-group"
ALARM = "alarm"


@dataclass(frozen=True)
class Output:
    key: str
    role: str
    subject: str = ""  # which queue or function, for roles with several outputs


WEBHOOK_URL = Output("WebhookUrl", ENDPOINT)
TABLE_NAME = Output("TableName", TABLE)
TABLE_STREAM_ARN = Output("TableStreamArn", STREAM)
PROCESSING_QUEUE_URL = Output("ProcessingQueueUrl", QUEUE_URL, "processing")
PROCESSING_QUEUE_ARN = Output("ProcessingQueueArn", QUEUE_ARN, "processing")
DEAD_LETTER_QUEUE_URL = Output("DeadLetterQueueUrl", QUEUE_URL, "dlq")
DEAD_LETTER_QUEUE_ARN = Output("DeadLetterQueueArn", QUEUE_ARN, "dlq")
AUDIT_FAILURE_QUEUE_URL = Output("AuditFailureQueueUrl", QUEUE_URL, "audit-failures")
EVENT_BUS_NAME = Output("EventBusName", BUS)
EVENT_BUS_ARN = Output("EventBusArn", BUS)
ALERT_TOPIC_ARN = Output("AlertTopicArn", TOPIC)
DASHBOARD = Output("DashboardName", "dashboard")
SIGNING_SECRET_ARN = Output("SigningSecretArn", SECRET)
KEY_ARN = Output("KeyArn", KEY)
RECEIVER_FUNCTION = Output("ReceiverFunctionName", FUNCTION, "receiver")
PROCESSOR_FUNCTION = Output("ProcessorFunctionName", FUNCTION, "processor")
AUDIT_FUNCTION = Output("AuditFunctionName", FUNCTION, "audit")
SWEEPER_FUNCTION = Output("SweeperFunctionName", FUNCTION, "sweeper")
RECEIVER_LOG_GROUP = Output("ReceiverLogGroupName", LOG_GROUP, "receiver")
PROCESSOR_LOG_GROUP = Output("ProcessorLogGroupName", LOG_GROUP, "processor")
AUDIT_LOG_GROUP = Output("AuditLogGroupName", LOG_GROUP, "audit")
SWEEPER_LOG_GROUP = Output("SweeperLogGroupName", LOG_GROUP, "sweeper")
DLQ_DEPTH_ALARM = Output("DlqDepthAlarmName", ALARM, "dlq-depth")
QUEUE_AGE_ALARM = Output("QueueAgeAlarmName", ALARM, "queue-age")
AUDIT_FAILURE_ALARM = Output("AuditFailureAlarmName", ALARM, "audit-failures")
API_5XX_ALARM = Output("Api5xxAlarmName", ALARM, "api-5xx")
RECEIVER_ERRORS_ALARM = Output("ReceiverErrorsAlarmName", ALARM, "receiver-errors")
PROCESSOR_ERRORS_ALARM = Output("ProcessorErrorsAlarmName", ALARM, "processor-errors")
AUDIT_ERRORS_ALARM = Output("AuditErrorsAlarmName", ALARM, "audit-errors")
SWEEPER_ERRORS_ALARM = Output("SweeperErrorsAlarmName", ALARM, "sweeper-errors")
PUBLISH_FAILED_ALARM = Output("PublishFailedAlarmName", ALARM, "publish-failed")
STUCK_EVENTS_ALARM = Output("StuckEventsAlarmName", ALARM, "stuck-events")
RECEIVER_SERVER_ERRORS_ALARM = Output("ReceiverServerErrorsAlarmName", ALARM, "receiver-5xx")

# A provider whose deliveries start failing verification (it rotated its secret before you did) alarms here
# long before anything reaches the DLQ.
SIGNATURE_REJECTED_ALARMS = {provider: Output(f"{provider.capitalize()}SignatureRejectedAlarmName", ALARM,
                                              f"signature-rejected-{provider}") for provider in PROVIDERS}

OUTPUTS = (*(value for value in list(globals().values()) if isinstance(value, Output)),
           *SIGNATURE_REJECTED_ALARMS.values())
FUNCTION_OUTPUTS = {o.subject: o for o in OUTPUTS if o.role == FUNCTION}
LOG_GROUP_OUTPUTS = {o.subject: o for o in OUTPUTS if o.role == LOG_GROUP}


def with_role(role: str) -> tuple[Output, ...]:
    return tuple(o for o in OUTPUTS if o.role == role)
