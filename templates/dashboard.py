"""One CloudWatch dashboard: webhooks per provider, refusals, processing, end-to-end latency, queue age, DLQ
depth and every alarm."""

from __future__ import annotations

import json

from troposphere import Sub, Template
from troposphere import cloudwatch as cw

from webhookctl.handlers.webhook_common.contract import metrics, names

from .alarms import Alarms
from .settings import Settings

REGION = "${AWS::Region}"  # filled in by Fn::Sub: the dashboard's widgets name their region


def add_dashboard(t: Template, s: Settings, alarms: Alarms) -> cw.Dashboard:
    body = json.dumps({"widgets": _widgets(s, alarms)}, separators=(",", ":"))
    return t.add_resource(cw.Dashboard("Dashboard", DashboardName=s.stack_name, DashboardBody=Sub(body)))


def _widgets(s: Settings, alarms: Alarms) -> list[dict]:
    per_provider = [("Webhooks accepted", metrics.ACCEPTED), ("Duplicates (retries and replays)", metrics.DUPLICATES),
                    ("Signature rejections", metrics.SIGNATURE_REJECTED), ("Other refusals (4XX)", metrics.REJECTED)]
    widgets = [_graph(title, [_provider_metric(s, name, p) for p in names.PROVIDERS]) for title, name in per_provider]
    widgets.append(_graph("Webhooks processed", [_provider_metric(s, metrics.PROCESSED, p) for p in names.PROVIDERS]))
    widgets.append(_graph("End-to-end latency p50 / p99, ms (received → processed)", [
        [metrics.NAMESPACE, metrics.END_TO_END_LATENCY, metrics.STACK, s.stack_name, {"stat": stat, "label": stat}]
        for stat in ("p50", "p99")]))
    receiver = names.function_name("receiver", s.suffix)
    widgets += [
        _graph("Receiver duration p50 / p99, ms", [
            ["AWS/Lambda", "Duration", "FunctionName", receiver, {"stat": "p50"}],
            ["AWS/Lambda", "Duration", "FunctionName", receiver, {"stat": "p99"}]]),
        _graph("Receiver 500s (providers retry)", [
            [metrics.NAMESPACE, metrics.SERVER_ERRORS, metrics.STACK, s.stack_name, {"stat": "Sum"}]]),
        _graph("Oldest waiting webhook, s", [
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", s.name("processing"), {"stat": "Maximum"}],
            [metrics.NAMESPACE, metrics.OLDEST_UNPROCESSED_AGE, metrics.STACK, s.stack_name, {"stat": "Maximum"}]]),
        _graph("Dead letters", [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", s.name("dlq"), {"stat": "Maximum"}]]),
        {"type": "alarm", "width": 24, "height": 4, "properties": {
            "title": "Alarms", "alarms": [_alarm_arn(alarm.AlarmName) for alarm in alarms.by_output.values()]}},
    ]
    return widgets


def _provider_metric(s: Settings, metric: str, provider: str) -> list:
    return [metrics.NAMESPACE, metric, metrics.PROVIDER, provider, metrics.STACK, s.stack_name,
            {"stat": "Sum", "label": provider}]


def _graph(title: str, series: list[list]) -> dict:
    return {"type": "metric", "width": 12, "height": 6, "properties": {
        "title": title, "region": REGION, "view": "timeSeries", "period": 300, "metrics": series}}


def _alarm_arn(alarm_name: str) -> str:
    return f"arn:${{AWS::Partition}}:cloudwatch:{REGION}:${{AWS::AccountId}}:alarm:{alarm_name}"
