"""Change-set creation and event streaming against botocore's Stubber: the exact calls, the exact answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.deploy.conftest import FakeClock
from webhookctl.edge.errors import StackError
from webhookctl.stack.changeset import ChangeSetRequest, TemplateSource, changes_table, create_change_set
from webhookctl.stack.stack_events import EventStream, Timing, first_failure, format_event

CS_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/webhookctl-1/abc"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/payment-webhooks-t/xyz"
REQUEST = ChangeSetRequest(stack_name="payment-webhooks-t", name="webhookctl-1", change_set_type="UPDATE",
                           template=TemplateSource(url="https://b.s3.us-east-1.amazonaws.com/templates/t.json"),
                           parameters={"HandlersKey": "handlers/1.zip"}, tags={"webhookctl:suffix": "t"})


def change(logical: str, action: str = "Modify", replacement: str | None = "False") -> dict[str, Any]:
    resource = {"Action": action, "LogicalResourceId": logical, "ResourceType": "AWS::Lambda::Function"}
    if replacement:
        resource["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": resource}


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def timing() -> tuple[Timing, FakeClock]:
    clock = FakeClock()
    return Timing(clock=clock.as_clock), clock


def expect_create(stubber: Stubber) -> None:
    stubber.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID}, {
        "StackName": "payment-webhooks-t", "ChangeSetName": "webhookctl-1", "ChangeSetType": "UPDATE",
        "TemplateURL": REQUEST.template.url, "Parameters": [{"ParameterKey": "HandlersKey",
                                                             "ParameterValue": "handlers/1.zip"}],
        "Tags": [{"Key": "webhookctl:suffix", "Value": "t"}],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]})


def test_change_set_is_awaited_and_all_pages_of_changes_are_read(stubbed: Any, timing: Any) -> None:
    client, stubber = stubbed
    expect_create(stubber)
    stubber.add_response("describe_change_set", {"Status": "CREATE_PENDING", "Changes": []},
                         {"ChangeSetName": CS_ID})
    stubber.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": [change("A")],
                                                 "NextToken": "page2"}, {"ChangeSetName": CS_ID})
    stubber.add_response("describe_change_set", {"Status": "CREATE_COMPLETE",
                                                 "Changes": [change("B", "Add", None)]},
                         {"ChangeSetName": CS_ID, "NextToken": "page2"})
    result = create_change_set(client, REQUEST, timing[0])
    assert [c["LogicalResourceId"] for c in result.changes] == ["A", "B"]
    assert (result.id, result.stack_id, result.empty) == (CS_ID, STACK_ID, False)
    assert timing[1].sleeps == [1.0]
    assert changes_table(result.changes).splitlines() == [
        "ACTION    LOGICAL ID  TYPE                   REPLACEMENT",
        "* Modify  A           AWS::Lambda::Function  False",
        "+ Add     B           AWS::Lambda::Function"]


def test_an_empty_change_set_is_deleted_and_reported_empty(stubbed: Any, timing: Any) -> None:
    client, stubber = stubbed
    expect_create(stubber)
    stubber.add_response("describe_change_set", {
        "Status": "FAILED", "Changes": [],
        "StatusReason": "The submitted information didn't contain changes. Submit different information to "
                        "create a change set."}, {"ChangeSetName": CS_ID})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID})
    assert create_change_set(client, REQUEST, timing[0]).empty is True


def test_no_updates_refused_outright_also_counts_as_empty(stubbed: Any, timing: Any) -> None:
    client, stubber = stubbed
    stubber.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.",
                             expected_params={"StackName": ANY, "ChangeSetName": ANY, "ChangeSetType": ANY,
                                              "TemplateURL": ANY, "Parameters": ANY, "Tags": ANY,
                                              "Capabilities": ANY})
    result = create_change_set(client, REQUEST, timing[0])
    assert (result.empty, result.id, result.changes) == (True, None, ())


def test_a_change_set_cloudformation_rejects_is_an_error_with_its_reason(stubbed: Any, timing: Any) -> None:
    client, stubber = stubbed
    expect_create(stubber)
    stubber.add_response("describe_change_set", {
        "Status": "FAILED", "StatusReason": "Parameters: [LayerKey] must have values"}, {"ChangeSetName": CS_ID})
    with pytest.raises(StackError) as caught:
        create_change_set(client, REQUEST, timing[0])
    assert str(caught.value) == ("CloudFormation rejected change set webhookctl-1 for payment-webhooks-t: "
                                 "Parameters: [LayerKey] must have values")


def ev(n: int, status: str = "UPDATE_IN_PROGRESS", logical: str = "Fn", reason: str | None = None,
       kind: str = "AWS::Lambda::Function") -> dict[str, Any]:
    item = {"EventId": f"e{n}", "StackId": STACK_ID, "StackName": "payment-webhooks-t",
            "LogicalResourceId": logical, "ResourceType": kind, "ResourceStatus": status,
            "Timestamp": datetime(2026, 1, 2, 3, 4, n, tzinfo=UTC)}
    if reason:
        item["ResourceStatusReason"] = reason
    return item


def test_event_stream_pages_newest_first_and_yields_only_new_events_oldest_first(stubbed: Any) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_stack_events", {"StackEvents": [ev(2), ev(1)]}, {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [ev(5), ev(4)], "NextToken": "t"},
                         {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [ev(3), ev(2), ev(1)]},
                         {"StackName": STACK_ID, "NextToken": "t"})
    stubber.add_response("describe_stack_events", {"StackEvents": [ev(5), ev(4)]}, {"StackName": STACK_ID})
    stream = EventStream(client, STACK_ID)
    stream.mark_existing()
    assert [e["EventId"] for e in stream.poll()] == ["e3", "e4", "e5"]
    assert stream.poll() == []


def test_event_line_has_time_status_type_logical_id_and_reason() -> None:
    assert format_event(ev(7, "CREATE_FAILED", reason="boom")).split(None, 4) == [
        "03:04:07", "CREATE_FAILED", "AWS::Lambda::Function", "Fn", "boom"]


def test_first_failure_is_the_cause_not_the_cancellations_it_set_off() -> None:
    events = [ev(1, "CREATE_FAILED", "Queue", "Resource creation cancelled", "AWS::SQS::Queue"),
              ev(2, "CREATE_FAILED", "Fn", "Role is invalid"),
              ev(3, "ROLLBACK_IN_PROGRESS", "stack", "The following resource(s) failed to create: [Fn, Queue]",
                 "AWS::CloudFormation::Stack")]
    assert first_failure(events) == "Fn (AWS::Lambda::Function): Role is invalid"
    assert first_failure(events[:1]) == "Queue (AWS::SQS::Queue): Resource creation cancelled"
    assert first_failure([ev(4, "UPDATE_COMPLETE")]) is None
