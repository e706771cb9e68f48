"""Stack output keys: the contract between the template and every command that operates the stack.

Commands find queues, alarms and secrets through these outputs, never by rebuilding names.
"""

WEBHOOK_URL = "WebhookUrl"
TABLE_NAME = "TableName"
TABLE_STREAM_ARN = "TableStreamArn"
PROCESSING_QUEUE_URL = "ProcessingQueueUrl"
PROCESSING_QUEUE_ARN = "ProcessingQueueArn"
DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"
DEAD_LETTER_QUEUE_ARN = "DeadLetterQueueArn"
AUDIT_FAILURE_QUEUE_URL = "AuditFailureQueueUrl"
ALERT_TOPIC_ARN = "AlertTopicArn"
SIGNING_SECRET_ARN = "SigningSecretArn"
KEY_ARN = "KeyArn"
RECEIVER_FUNCTION = "ReceiverFunctionName"
PROCESSOR_FUNCTION = "ProcessorFunctionName"
AUDIT_FUNCTION = "AuditFunctionName"
RECEIVER_LOG_GROUP = "ReceiverLogGroupName"
PROCESSOR_LOG_GROUP = "ProcessorLogGroupName"
AUDIT_LOG_GROUP = "AuditLogGroupName"
# Every alarm's name is an output whose key ends with this suffix (`alarms status` lists them all).
ALARM_SUFFIX = "AlarmName"
DLQ_DEPTH_ALARM = "DlqDepthAlarmName"
QUEUE_AGE_ALARM = "QueueAgeAlarmName"
AUDIT_FAILURE_ALARM = "AuditFailureAlarmName"
API_5XX_ALARM = "Api5xxAlarmName"
RECEIVER_ERRORS_ALARM = "ReceiverErrorsAlarmName"
PROCESSOR_ERRORS_ALARM = "ProcessorErrorsAlarmName"
AUDIT_ERRORS_ALARM = "AuditErrorsAlarmName"

LOG_GROUP_OUTPUTS = {"receiver": RECEIVER_LOG_GROUP, "processor": PROCESSOR_LOG_GROUP,
                     "audit": AUDIT_LOG_GROUP}

OUTPUTS = tuple(v for k, v in sorted(globals().items()) if k.isupper() and isinstance(v, str)
                and k != "ALARM_SUFFIX")
