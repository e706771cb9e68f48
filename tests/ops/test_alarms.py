"""alarms status: metric and composite alarms, INSUFFICIENT_DATA shown but passing, missing alarms failing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from tests.ops.conftest import ALARMS, FAKE_CREDENTIALS, REGION, SUFFIX
from webhookctl.operate.alarms import alarm_report, stack_alarm_report
from webhookctl.stack.outputs import DeployedStack


def test_the_alarms_are_the_outputs_with_the_alarm_role():
    stack = DeployedStack("payment-webhooks-x", {"QueueAgeAlarmName": "b", "DlqDepthAlarmName": "a",
                                                 "TableName": "t", "AlertTopicArn": "x"})
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, **FAKE_CREDENTIALS)
    with Stubber(cloudwatch) as stubber:
        stubber.add_response("describe_alarms", {}, {"AlarmNames": ["a", "b"],
                                                     "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
        report = stack_alarm_report(cloudwatch, stack)
    assert [(a.output_key, a.name) for a in report.alarms] == [("DlqDepthAlarmName", "a"), ("QueueAgeAlarmName", "b")]


def test_composite_and_metric_alarms_both_asked_for_and_reported():
    # GIVEN CloudWatch answering for one metric alarm (INSUFFICIENT_DATA) and one composite alarm (OK)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, **FAKE_CREDENTIALS)
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Stubber(cloudwatch) as stubber:
        stubber.add_response("describe_alarms", {
            "MetricAlarms": [{"AlarmName": "m", "StateValue": "INSUFFICIENT_DATA", "StateReason": "no data",
                              "StateUpdatedTimestamp": since}],
            "NextToken": "page2"},
            {"AlarmNames": ["m", "c"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
        stubber.add_response("describe_alarms", {
            "CompositeAlarms": [{"AlarmName": "c", "StateValue": "OK", "StateReason": "children OK",
                                 "StateTransitionedTimestamp": since}]},
            {"AlarmNames": ["m", "c"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "NextToken": "page2"})
        # WHEN
        report = alarm_report(cloudwatch, {"MetricAlarmName": "m", "CompositeAlarmName": "c"})
    # THEN INSUFFICIENT_DATA is shown but does not fail the check
    assert report.exit_code == 0
    assert json.loads(report.as_json()) == {"ok": True, "alarms": [
        {"outputKey": "MetricAlarmName", "name": "m", "kind": "metric", "state": "INSUFFICIENT_DATA",
         "since": "2026-01-02T03:04:05+00:00", "reason": "no data"},
        {"outputKey": "CompositeAlarmName", "name": "c", "kind": "composite", "state": "OK",
         "since": "2026-01-02T03:04:05+00:00", "reason": "children OK"}]}
    assert report.as_text().splitlines() == [
        "ALARM  STATE              SINCE                      REASON",
        "m      INSUFFICIENT_DATA  2026-01-02T03:04:05+00:00  no data",
        "c      OK                 2026-01-02T03:04:05+00:00  children OK"]


@pytest.mark.slow
def test_an_alarm_named_in_outputs_but_absent_fails(pipeline):
    # GIVEN the stack names an alarm CloudWatch does not have
    pipeline.outputs["QueueAgeAlarmName"] = "webhook-queue-age-gone"
    # WHEN
    result = pipeline.invoke("alarms", "status", "--suffix", SUFFIX)
    # THEN it is reported as MISSING and the check fails
    assert result.exit_code == 1
    assert [line.split()[:2] for line in result.stdout.splitlines()[1:]] == [
        [ALARMS["DlqDepthAlarmName"], "OK"], [ALARMS["ProcessorErrorsAlarmName"], "OK"],
        ["webhook-queue-age-gone", "MISSING"]]
    assert result.stderr == "1 MISSING, 2 OK\n"


@pytest.mark.slow
def test_a_stack_without_alarm_outputs_is_an_error(pipeline):
    for key in ALARMS:
        del pipeline.outputs[key]
    result = pipeline.invoke("alarms", "status", "--suffix", SUFFIX)
    assert result.exit_code == 1
    assert "stack payment-webhooks-ops has no alarm outputs: redeploy it" in result.stderr
