"""The payment-event bus: encrypted with the stack's key (which EventBridge may use for this bus only),
archived, published to by the processor alone, and open to the consumer accounts named, for their own rules."""

from __future__ import annotations

import pytest

from tests.templates.conftest import of_type, props, rendered
from tests.templates.test_kms_wiring import key_statement, sub_text
from webhookctl.handlers.webhook_common.contract import stack as outputs
from webhookctl.templates import Settings
from webhookctl.templates.settings import SettingsError

KEY_ARN = {"Fn::GetAtt": ["EncryptionKey", "Arn"]}
BUS_ARN = {"Fn::GetAtt": ["PaymentEventBus", "Arn"]}


def role_statements(resources: dict, role: str) -> list[dict]:
    return props(resources, role)["Policies"][0]["PolicyDocument"]["Statement"]


def test_the_bus_and_its_archive_are_encrypted_with_the_stack_key(resources):
    bus = props(resources, "PaymentEventBus")
    archive = props(resources, "PaymentEventArchive")
    assert (bus["Name"], bus["KmsKeyIdentifier"]) == ("payment-events-qa7", KEY_ARN)
    assert (archive["SourceArn"], archive["KmsKeyIdentifier"], archive["RetentionDays"]) == (BUS_ARN, KEY_ARN, 30)
    assert "EventPattern" not in archive  # every event, so a consumer that was down can replay all of it
    assert "Policy" not in bus  # no consumer accounts: only this account's IAM decides


def test_eventbridge_may_use_the_key_for_this_bus_only(resources):
    statement = key_statement(resources, "EventBridgeEncryptsStackBus")
    context = statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:events:event-bus:arn"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert sub_text(context) == "arn:aws:events:eu-west-1:111122223333:event-bus/payment-events-qa7"
    assert set(statement["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt", "kms:ReEncrypt*"}
    assert key_statement(resources, "EventBridgeDescribesKey")["Action"] == ["kms:DescribeKey"]


def test_only_the_processor_publishes_and_only_to_the_bus(resources):
    publishers = {role: s for role in of_type(resources, "AWS::IAM::Role")
                  for s in role_statements(resources, role) if any(a.startswith("events:") for a in s["Action"])}
    assert list(publishers) == ["ProcessorRole"]
    assert (publishers["ProcessorRole"]["Action"], publishers["ProcessorRole"]["Resource"]) == (
        ["events:PutEvents"], [BUS_ARN])


def test_the_processor_is_told_the_bus_by_reference_and_publish_ignored_by_setting():
    variables = props(rendered(Settings(suffix="qa7", publish_ignored=True))["Resources"], "ProcessorFunction")
    assert variables["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "PaymentEventBus"}
    assert variables["Environment"]["Variables"]["PUBLISH_IGNORED"] == "true"


def test_the_stack_outputs_the_bus_and_alarms_on_refused_events(template):
    assert template["Outputs"][outputs.EVENT_BUS_NAME.key]["Value"] == {"Ref": "PaymentEventBus"}
    assert template["Outputs"][outputs.EVENT_BUS_ARN.key]["Value"] == BUS_ARN
    alarm = props(template["Resources"], "PublishFailedAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
        "Webhookctl", "PublishFailed", [{"Name": "Stack", "Value": "payment-webhooks-qa7"}])


def test_no_archive_when_event_archive_days_is_zero():
    resources = rendered(Settings(suffix="qa7", event_archive_days=0))["Resources"]
    assert not of_type(resources, "AWS::Events::Archive")


def test_consumer_accounts_may_manage_only_rules_they_created_on_this_bus():
    bus = props(rendered(Settings(suffix="qa7", consumer_accounts=("444455556666",)))["Resources"],
                "PaymentEventBus")
    (statement,) = bus["Policy"]["Statement"]
    assert statement["Principal"] == {"AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::444455556666:root"}]}
    assert sub_text(statement["Resource"][0]) == "arn:aws:events:eu-west-1:111122223333:rule/payment-events-qa7/*"
    assert statement["Condition"] == {
        "StringEqualsIfExists": {"events:creatorAccount": "${aws:PrincipalAccount}"}}
    assert "events:PutEvents" not in statement["Action"]


@pytest.mark.parametrize("accounts", [("12345",), ("4444-5555-6666",), ("44445555666a",)])
def test_a_consumer_account_must_be_twelve_digits(accounts):
    with pytest.raises(SettingsError, match="consumer_accounts=.* must be comma-separated 12-digit AWS account ids"):
        Settings(consumer_accounts=accounts)


def test_bus_settings_arrive_as_set_strings():
    settings = Settings.from_overrides({"publish_ignored": "TRUE", "event_archive_days": "0",
                                        "consumer_accounts": "444455556666, 777788889999"})
    assert (settings.publish_ignored, settings.event_archive_days, settings.consumer_accounts) == (
        True, 0, ("444455556666", "777788889999"))
