"""CloudWatch: AWS::CloudWatch::Alarm in templates (moto's CloudFormation has no model for it)."""

from __future__ import annotations

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
