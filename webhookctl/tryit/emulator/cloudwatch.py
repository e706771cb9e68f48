"""CloudWatch: AWS::CloudWatch::Alarm in templates (moto's CloudFormation has no model for it), the
percentile statistics (p50, p99) GetMetricData answers, which `webhookctl stats` reads latency with, and
metrics matched and listed as AWS does."""

from __future__ import annotations

import math
import re
from typing import Any

from webhookctl.tryit.emulator.cloudformation import register_model
from webhookctl.tryit.emulator.probe import Probe


def patch_alarm_model() -> None:
    """moto skips the type, so `alarms status` finds no alarm: create a real alarm; Ref = its name, as in AWS."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel

    class AlarmModel(CloudFormationModel):
        def __init__(self, name: str, arn: str) -> None:
            self.name, self.arn = name, arn

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str, **kwargs: Any) -> AlarmModel:
            alarm = _put_alarm(cloudwatch_backends[account_id][region_name], resource_name,
                               cloudformation_json.get("Properties", {}))
            return cls(resource_name, alarm.alarm_arn)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: Any, account_id: str,
                                            region_name: str) -> AlarmModel:
            backend = cloudwatch_backends[account_id][region_name]
            backend.delete_alarms([original_resource.name])  # a new AlarmName replaces the alarm
            alarm = _put_alarm(backend, new_resource_name, cloudformation_json.get("Properties", {}))
            return cls(new_resource_name, alarm.alarm_arn)

        def delete(self, account_id: str, region_name: str) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

    register_model(AlarmModel)


def _put_alarm(backend: Any, name: str, props: dict[str, Any]) -> Any:
    return backend.put_metric_alarm(
        name=name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
        comparison_operator=props.get("ComparisonOperator"),
        evaluation_periods=int(props.get("EvaluationPeriods", 1)), period=int(props.get("Period", 60)),
        threshold=float(props.get("Threshold", 0)), statistic=props.get("Statistic"),
        description=props.get("AlarmDescription"), dimensions=props.get("Dimensions", []),
        alarm_actions=props.get("AlarmActions", []), ok_actions=props.get("OKActions", []),
        insufficient_data_actions=props.get("InsufficientDataActions", []),
        datapoints_to_alarm=props.get("DatapointsToAlarm"),
        extended_statistic=props.get("ExtendedStatistic"),
        unit=props.get("Unit"), actions_enabled=props.get("ActionsEnabled", True),
        treat_missing_data=props.get("TreatMissingData"))


def cloudformation_ignores_alarms(aws: Probe) -> bool:
    """A Ref to an AWS::CloudWatch::Alarm resolves to nothing."""
    return aws.ignores("AWS::CloudWatch::Alarm", {
        "AlarmName": "probe", "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
        "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold"})


_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


def percentile(values: list[float], stat: str) -> float | None:
    """pNN of the samples (nearest rank), or None when STAT is no percentile or there are no samples."""
    match = _PERCENTILE.match(stat)
    if not match or not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(float(match.group(1)) / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def patch_percentile_statistics() -> None:
    """moto answers only Sum, Average, Minimum, Maximum and SampleCount (a pNN query fails with a 500); AWS takes
    any percentile as a GetMetricData Stat, over the samples a metric was given (EMF arrays included)."""
    from moto.cloudwatch.models import Statistics

    plain = Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        if _PERCENTILE.match(stat):
            return percentile(self.metric_single_values_list, stat)
        return plain(self, stat)

    Statistics.get_statistics_for_type = get_statistics_for_type


def get_metric_data_has_no_percentiles(aws: Probe) -> bool:
    """GetMetricData with Stat p50 over 1..100 does not answer 50."""
    from datetime import UTC, datetime, timedelta

    cloudwatch, now = aws.client("cloudwatch"), datetime.now(UTC)
    metric = {"Namespace": "Probe", "MetricName": "Latency", "Dimensions": [{"Name": "Stack", "Value": "probe"}]}
    cloudwatch.put_metric_data(Namespace="Probe", MetricData=[{
        "MetricName": "Latency", "Dimensions": metric["Dimensions"], "Timestamp": now, "Unit": "Milliseconds",
        "Values": [float(v) for v in range(1, 101)]}])
    try:
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "p", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "p50"}}],
            StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1))
    except Exception:  # noqa: BLE001 - moto fails the whole call (float(None)): the gap itself
        return True
    return [v for r in answer["MetricDataResults"] for v in r["Values"]] != [50.0]


def patch_distinct_metric_listing() -> None:
    """moto's ListMetrics drops a datum whose metric it has listed, but its dimension check compares each
    dimension with every other (so two never match) and skips metrics without dimensions: such a metric is
    listed once per datapoint, and the listing is quadratic in them. AWS lists each metric once."""
    from moto.cloudwatch.models import CloudWatchBackend

    def get_filtered_metrics(self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]) -> Any:
        listed, seen = [], set()
        for datum in self.get_all_metrics():
            key = (datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions))
            if key not in seen and datum.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
                seen.add(key)
                listed.append(datum)
        return listed

    CloudWatchBackend.get_filtered_metrics = get_filtered_metrics


def metrics_are_listed_per_datapoint(aws: Probe) -> bool:
    """Two datapoints of one metric with two dimensions, and two of one without, are not listed as two metrics."""
    from datetime import UTC, datetime

    cloudwatch, now = aws.client("cloudwatch"), datetime.now(UTC)
    dimensions = [{"Name": "Provider", "Value": "stripe"}, {"Name": "Stack", "Value": "probe"}]
    for _ in range(2):
        cloudwatch.put_metric_data(Namespace="Probe", MetricData=[
            {"MetricName": "Accepted", "Dimensions": dimensions, "Timestamp": now, "Value": 1.0},
            {"MetricName": "Total", "Timestamp": now, "Value": 1.0}])
    listed = cloudwatch.list_metrics(Namespace="Probe")["Metrics"]
    return sorted(m["MetricName"] for m in listed) != ["Accepted", "Total"]


def patch_dimension_order() -> None:
    """moto matches a query's dimensions to a datum's by sorting both with a broken Dimension.__lt__ (it compares
    a value to a name), so the same dimensions in another order match nothing; AWS ignores their order."""
    from moto.cloudwatch.models import Dimension

    def less_than(self: Any, other: Any) -> bool:
        return (self.name, self.value or "") < (other.name, other.value or "")

    Dimension.__lt__ = less_than


def dimension_order_matters(aws: Probe) -> bool:
    """A datum put with dimensions (Provider, Stack) is not found by a query naming (Stack, Provider)."""
    from datetime import UTC, datetime, timedelta

    cloudwatch, now = aws.client("cloudwatch"), datetime.now(UTC)
    provider, stack = {"Name": "Provider", "Value": "stripe"}, {"Name": "Stack", "Value": "probe"}
    cloudwatch.put_metric_data(Namespace="Probe", MetricData=[
        {"MetricName": "Accepted", "Dimensions": [provider, stack], "Timestamp": now, "Value": 1.0}])
    metric = {"Namespace": "Probe", "MetricName": "Accepted", "Dimensions": [stack, provider]}
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}],
        StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1))
    return [v for r in answer["MetricDataResults"] for v in r["Values"]] != [1.0]
