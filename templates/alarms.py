"""The alert topic and the alarms that publish to it: DLQ depth, queue age, function errors, API 5XX."""

from __future__ import annotations

from dataclasses import dataclass

import awacs.sns as sns
from awacs.aws import Allow, ArnLike, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import GetAtt, Sub, Template
from troposphere import cloudwatch as cw
from troposphere import sns as tsns

from webhookctl.handlers.webhook_common.contract import metrics, names
from webhookctl.handlers.webhook_common.contract import stack as outputs

from .api import STAGE_NAME, Api
from .common import account_arn, deny_without_tls
from .functions import Functions
from .keys import Keys
from .queues import Queues
from .settings import Settings

MIN_REQUESTS = 5  # fewer requests in 5 min than this never alarm on their rejection share
TOPIC_ACTIONS = [sns.AddPermission, sns.DeleteTopic, sns.GetTopicAttributes, sns.ListSubscriptionsByTopic,
                 sns.Publish, sns.RemovePermission, sns.SetTopicAttributes, sns.Subscribe,
                 sns.TagResource, sns.UntagResource]


@dataclass(frozen=True)
class Alarms:
    topic: tsns.Topic
    by_output: dict[str, cw.Alarm]


def add_alarms(t: Template, s: Settings, keys: Keys, queues: Queues, functions: Functions,
               api: Api) -> Alarms:
    topic = t.add_resource(tsns.Topic("AlertTopic", TopicName=s.name("alerts"), KmsMasterKeyId=keys.key.ref(),
                                      DisplayName=f"Payment webhook alerts ({s.suffix})"))
    t.add_resource(tsns.TopicPolicy("AlertTopicPolicy", Topics=[topic.ref()],
                                    PolicyDocument=_topic_policy(s, topic)))
    for number, address in enumerate(s.alert_emails, start=1):
        t.add_resource(tsns.SubscriptionResource(f"AlertEmail{number}", TopicArn=topic.ref(),
                                                 Protocol="email", Endpoint=address))
    alarm = _AlarmFactory(t, s, topic)
    by_output = {
        outputs.DLQ_DEPTH_ALARM: alarm.sqs("DlqDepth", outputs.DLQ_DEPTH_ALARM, queues.dead_letter,
                                           "ApproximateNumberOfMessagesVisible", 1,
                                           "Webhooks failed processing 3 times and wait in the DLQ"),
        outputs.QUEUE_AGE_ALARM: alarm.sqs("QueueAge", outputs.QUEUE_AGE_ALARM, queues.processing,
                                           "ApproximateAgeOfOldestMessage", s.queue_age_alarm_seconds,
                                           "Webhooks are waiting too long to be processed"),
        outputs.AUDIT_FAILURE_ALARM: alarm.sqs("AuditFailures", outputs.AUDIT_FAILURE_ALARM, queues.audit_failures,
                                               "ApproximateNumberOfMessagesVisible", 1,
                                               "Stream batches the audit function could not log"),
        outputs.API_5XX_ALARM: alarm.metric(
            "Api5xx", outputs.API_5XX_ALARM, "AWS/ApiGateway", "5XXError",
            [cw.MetricDimension(Name="ApiName", Value=s.stack_name),
             cw.MetricDimension(Name="Stage", Value=STAGE_NAME)],
            "Sum", 300, s.api_5xx_alarm_threshold, "Providers are getting 5XX answers and will retry",
            depends_on=api.stage.title),
    }
    for kind, function in (("receiver", functions.receiver), ("processor", functions.processor),
                           ("audit", functions.audit), ("sweeper", functions.sweeper)):
        output = getattr(outputs, f"{kind.upper()}_ERRORS_ALARM")
        by_output[output] = alarm.metric(
            f"{kind.capitalize()}Errors", output, "AWS/Lambda", "Errors",
            [cw.MetricDimension(Name="FunctionName", Value=function.function.ref())],
            "Sum", 60, 1, f"The {kind} function raised errors")
    by_output[outputs.PUBLISH_FAILED_ALARM] = alarm.metric(
        "PublishFailed", outputs.PUBLISH_FAILED_ALARM, metrics.NAMESPACE, metrics.PUBLISH_FAILED,
        [cw.MetricDimension(Name=metrics.STACK, Value=s.stack_name)], "Sum", 300, 1,
        "EventBridge refused payment events; each is retried and reaches the DLQ if refusals persist")
    by_output[outputs.STUCK_EVENTS_ALARM] = alarm.metric(
        "StuckEvents", outputs.STUCK_EVENTS_ALARM, metrics.NAMESPACE, metrics.STUCK_EVENTS,
        [cw.MetricDimension(Name=metrics.STACK, Value=s.stack_name)], "Sum", 60 * s.sweep_interval_minutes, 1,
        "Events were stored but not enqueued (an AWS failure inside the receiver); the sweeper enqueued them")
    by_output[outputs.RECEIVER_SERVER_ERRORS_ALARM] = alarm.metric(
        "ReceiverServerErrors", outputs.RECEIVER_SERVER_ERRORS_ALARM, metrics.NAMESPACE, metrics.SERVER_ERRORS,
        [cw.MetricDimension(Name=metrics.STACK, Value=s.stack_name)], "Sum", 300, 1,
        "The receiver answered 500 (AWS failed or a secret is misconfigured); providers will retry")
    for provider, output in outputs.SIGNATURE_REJECTED_ALARMS.items():
        by_output[output] = alarm.rejection_rate(provider, output)
    return Alarms(topic, by_output)


@dataclass(frozen=True)
class _AlarmFactory:
    t: Template
    s: Settings
    topic: tsns.Topic

    def sqs(self, title: str, output: outputs.Output, queue, metric: str, threshold: int,
            description: str) -> cw.Alarm:
        return self.metric(title, output, "AWS/SQS", metric,
                           [cw.MetricDimension(Name="QueueName", Value=GetAtt(queue, "QueueName"))],
                           "Maximum", 60, threshold, description)

    def rejection_rate(self, provider: str, output: outputs.Output) -> cw.Alarm:
        """The share of PROVIDER's requests that failed verification, once it sent at least MIN_REQUESTS."""
        def count(query_id: str, metric: str) -> cw.MetricDataQuery:
            return cw.MetricDataQuery(Id=query_id, ReturnData=False, MetricStat=cw.MetricStat(
                Metric=cw.Metric(Namespace=metrics.NAMESPACE, MetricName=metric, Dimensions=[
                    cw.MetricDimension(Name=metrics.STACK, Value=self.s.stack_name),
                    cw.MetricDimension(Name=metrics.PROVIDER, Value=provider)]),
                Period=300, Stat="Sum"))

        total = "bad + good + dup"
        rate = cw.MetricDataQuery(Id="rate", Label=f"{provider} signature rejections, %", ReturnData=True,
                                  Expression=f"IF({total} >= {MIN_REQUESTS}, 100 * bad / ({total}), 0)")
        return self.t.add_resource(cw.Alarm(
            f"{provider.capitalize()}SignatureRejectedAlarm", AlarmName=names.alarm_name(output.subject, self.s.suffix),
            AlarmDescription=f"{provider} deliveries are failing signature verification: a rotated secret not yet "
                             "added with `webhookctl secrets set`, or someone forging requests",
            Metrics=[count("bad", metrics.SIGNATURE_REJECTED), count("good", metrics.ACCEPTED),
                     count("dup", metrics.DUPLICATES), rate],
            EvaluationPeriods=1, Threshold=self.s.signature_rejection_alarm_percent,
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
            AlarmActions=[self.topic.ref()], OKActions=[self.topic.ref()]))

    def metric(self, title: str, output: outputs.Output, namespace: str, metric: str, dimensions: list,
               statistic: str, period: int, threshold: int, description: str,
               depends_on: str | None = None) -> cw.Alarm:
        extra = {"DependsOn": [depends_on]} if depends_on else {}
        return self.t.add_resource(cw.Alarm(
            f"{title}Alarm", AlarmName=names.alarm_name(output.subject, self.s.suffix), AlarmDescription=description,
            Namespace=namespace, MetricName=metric, Dimensions=dimensions, Statistic=statistic,
            Period=period, EvaluationPeriods=1, Threshold=threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
            AlarmActions=[self.topic.ref()], OKActions=[self.topic.ref()], **extra))


def _topic_policy(s: Settings, topic: tsns.Topic) -> PolicyDocument:
    return PolicyDocument(Version="2012-10-17", Statement=[
        Statement(Sid="StackAlarmsPublish", Effect=Allow,
                  Principal=Principal("Service", "cloudwatch.amazonaws.com"), Action=[sns.Publish],
                  Resource=[topic.ref()],
                  Condition=Condition([
                      StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                      ArnLike("aws:SourceArn", account_arn("cloudwatch", f"alarm:{names.alarm_name('*', s.suffix)}")),
                  ])),
        deny_without_tls(TOPIC_ACTIONS, [topic.ref()]),
    ])
