"""What the emulator cannot show, told by a scripted CloudFormation: failures with per-resource events,
ROLLBACK_COMPLETE recovery, UPDATE_ROLLBACK_FAILED, stacks already in progress, termination protection.
S3 and STS are the emulator's, so packaging and uploads run for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import emulator_app
from tests.deploy.conftest import FakeClock
from tests.deploy.fake_cloudformation import FakeCloudFormation, event, stack, stack_id

NAME = "payment-webhooks-flow"
ARGS = ("deploy", "--suffix", "flow")


def app_with(emulator: Any, fake: FakeCloudFormation) -> Any:
    return emulator_app(emulator, cloudformation=fake)


def event_lines(result: Result) -> list[list[str]]:
    """The streamed event lines (they start with a time), split into words."""
    return [line.split(None, 4) for line in result.stderr.splitlines() if line[:2].isdigit() and line[2] == ":"]


def test_a_failed_create_shows_new_events_oldest_first_and_the_first_cause_as_headline(
        clean_emulator: Any, run: Callable[..., Result]) -> None:
    # GIVEN a first create in which the function fails and the queue is cancelled as a consequence
    cause = ("Resource handler returned message: \"User is not authorized to perform: iam:PassRole\" "
             "(Service: Lambda, Status Code: 400)")
    fake = FakeCloudFormation(
        stacks=[None],
        existing_events=[event(NAME, NAME, "REVIEW_IN_PROGRESS", "User Initiated")],
        on_execute=[([
            event(NAME, NAME, "CREATE_IN_PROGRESS", "User Initiated", second=1),
            event(NAME, "ProcessingQueue", "CREATE_IN_PROGRESS", resource_type="AWS::SQS::Queue", second=2),
            event(NAME, "ReceiverFunction", "CREATE_FAILED", cause, "AWS::Lambda::Function", second=3),
            event(NAME, "ProcessingQueue", "CREATE_FAILED", "Resource creation cancelled", "AWS::SQS::Queue",
                  second=4),
            event(NAME, NAME, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: "
                  "[ProcessingQueue, ReceiverFunction]. Rollback requested by user.", second=5),
            event(NAME, NAME, "ROLLBACK_COMPLETE", second=9),
        ], [stack(NAME, "CREATE_IN_PROGRESS"), stack(NAME, "CREATE_IN_PROGRESS"),
            stack(NAME, "ROLLBACK_IN_PROGRESS"), stack(NAME, "ROLLBACK_COMPLETE")])])
    # WHEN it is deployed
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes")
    # THEN every new event is printed once, oldest first, and the headline is the function's reason
    assert result.exit_code == 1
    assert [line[1:4] for line in event_lines(result)] == [
        ["CREATE_IN_PROGRESS", "AWS::CloudFormation::Stack", NAME],
        ["CREATE_IN_PROGRESS", "AWS::SQS::Queue", "ProcessingQueue"],
        ["CREATE_FAILED", "AWS::Lambda::Function", "ReceiverFunction"],
        ["CREATE_FAILED", "AWS::SQS::Queue", "ProcessingQueue"],
        ["ROLLBACK_IN_PROGRESS", "AWS::CloudFormation::Stack", NAME],
        ["ROLLBACK_COMPLETE", "AWS::CloudFormation::Stack", NAME]]
    assert event_lines(result)[2][4] == cause
    assert result.stderr.splitlines()[-1] == (
        f"Error: deploy of {NAME} failed: ReceiverFunction (AWS::Lambda::Function): {cause}; the stack is now "
        "ROLLBACK_COMPLETE: the first create failed and nothing was kept; fix the cause and run deploy again "
        "(it offers to delete and recreate the stack)")
    create = dict(fake.calls)["create_change_set"]
    assert (create["ChangeSetType"], create["Capabilities"]) == ("CREATE", ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])


def test_a_failed_update_rolls_back_and_says_so(clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = FakeCloudFormation(
        stacks=[stack(NAME, "UPDATE_COMPLETE")],
        on_execute=[([
            event(NAME, "ReceiverFunction", "UPDATE_FAILED", "Memory size 99 is invalid", "AWS::Lambda::Function"),
            event(NAME, NAME, "UPDATE_ROLLBACK_COMPLETE"),
        ], [stack(NAME, "UPDATE_IN_PROGRESS"), stack(NAME, "UPDATE_ROLLBACK_COMPLETE")])])
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: deploy of {NAME} failed: ReceiverFunction (AWS::Lambda::Function): Memory size 99 is invalid; "
        "the stack is now UPDATE_ROLLBACK_COMPLETE: the stack is back on its previous version; fix the cause "
        "and deploy again")
    assert dict(fake.calls)["create_change_set"]["ChangeSetType"] == "UPDATE"


def rollback_complete_fake(tags: list[dict[str, str]] | None = None) -> FakeCloudFormation:
    failed = stack(NAME, "ROLLBACK_COMPLETE", **({"Tags": tags} if tags is not None else {}))
    return FakeCloudFormation(
        stacks=[failed],
        on_delete=[([event(NAME, NAME, "DELETE_IN_PROGRESS", "User Initiated"), event(NAME, NAME, "DELETE_COMPLETE")],
                    [stack(NAME, "DELETE_IN_PROGRESS"), stack(NAME, "DELETE_COMPLETE")])],
        on_execute=[([event(NAME, NAME, "CREATE_IN_PROGRESS", n=2), event(NAME, NAME, "CREATE_COMPLETE", n=2)],
                     [stack(NAME, "CREATE_IN_PROGRESS", n=2),
                      stack(NAME, "CREATE_COMPLETE", n=2, Outputs=[{"OutputKey": "TableName",
                                                                    "OutputValue": "PaymentWebhooks-flow"}])])])


def test_rollback_complete_is_deleted_and_recreated_with_yes(clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = rollback_complete_fake()
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes")
    assert result.exit_code == 0, result.output
    assert f"stack {NAME} is ROLLBACK_COMPLETE: its first create failed" in result.stderr
    assert [c for c in fake.call_names() if c in ("delete_stack", "create_change_set", "execute_change_set")] == [
        "delete_stack", "create_change_set", "execute_change_set"]
    assert dict(fake.calls)["delete_stack"] == {"StackName": stack_id(NAME)}
    assert dict(fake.calls)["create_change_set"]["ChangeSetType"] == "CREATE"
    assert result.stdout.split() == ["OUTPUT", "VALUE", "TableName", "PaymentWebhooks-flow"]


def test_rollback_complete_without_a_terminal_or_yes_is_left_alone(
        clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = rollback_complete_fake()
    result = run(app_with(clean_emulator, fake), *ARGS)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: stack {NAME} is ROLLBACK_COMPLETE: re-run with --yes to delete and recreate it, or delete it "
        "with `webhookctl destroy --suffix flow`")
    assert "delete_stack" not in fake.call_names() and "create_change_set" not in fake.call_names()


def test_rollback_complete_is_recreated_after_a_yes_at_the_prompt(
        clean_emulator: Any, run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    fake = rollback_complete_fake()
    result = run(app_with(clean_emulator, fake), *ARGS, input="y\ny\n", terminal=True)
    assert result.exit_code == 0, result.output
    assert f"Delete {NAME} (ROLLBACK_COMPLETE) and create it again? [y/N]" in result.stderr
    assert "execute_change_set" in fake.call_names()


def test_a_failed_stack_not_made_by_webhookctl_is_never_deleted(
        clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = rollback_complete_fake(tags=[])
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes")
    assert result.exit_code == 1
    assert "was not created by webhookctl (no webhookctl:suffix=flow tag)" in result.stderr
    assert "delete_stack" not in fake.call_names()


def test_update_rollback_failed_offers_continue_update_rollback(
        clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = FakeCloudFormation(stacks=[stack(NAME, "UPDATE_ROLLBACK_FAILED")])
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: stack {NAME} is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback; finish the "
        f"rollback with `aws --region us-east-1 --endpoint-url {clean_emulator.url} cloudformation "
        f"continue-update-rollback --stack-name {NAME}` (add --resources-to-skip LOGICAL_ID for a resource that "
        "cannot roll back), then deploy again")
    assert fake.call_names() == ["describe_stacks"]


def test_a_stack_in_progress_is_waited_for_with_its_events_streamed(
        clean_emulator: Any, run: Callable[..., Result], clock: FakeClock) -> None:
    # GIVEN someone else's update still running (it finishes after two more polls)
    fake = FakeCloudFormation(
        stacks=[stack(NAME, "UPDATE_IN_PROGRESS"), stack(NAME, "UPDATE_IN_PROGRESS"),
                stack(NAME, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"), stack(NAME, "UPDATE_COMPLETE")],
        existing_events=[event(NAME, NAME, "UPDATE_IN_PROGRESS", "User Initiated")],
        empty_change_set=True)
    fake.pending_events = [[], [event(NAME, "ReceiverFunction", "UPDATE_COMPLETE",
                                      resource_type="AWS::Lambda::Function")],
                           [event(NAME, NAME, "UPDATE_COMPLETE")]]
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes")
    # THEN deploy waited (polling on the injected clock), showed the new events, then found nothing to do
    assert result.exit_code == 0, result.output
    assert f"stack {NAME} is UPDATE_IN_PROGRESS: waiting for it to finish" in result.stderr
    assert [line[1:4] for line in event_lines(result)] == [
        ["UPDATE_COMPLETE", "AWS::Lambda::Function", "ReceiverFunction"],
        ["UPDATE_COMPLETE", "AWS::CloudFormation::Stack", NAME]]
    assert clock.sleeps == [2.0, 2.0]
    assert f"stack {NAME} is up to date" in result.stderr
    assert [c for c in fake.call_names() if c.endswith("change_set")] == [
        "create_change_set", "describe_change_set", "delete_change_set"]


def test_waiting_gives_up_after_the_timeout_with_what_to_do(clean_emulator: Any, run: Callable[..., Result],
                                                            clock: FakeClock) -> None:
    fake = FakeCloudFormation(stacks=[stack(NAME, "UPDATE_IN_PROGRESS")])
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: gave up waiting after 3600 s: stack {NAME} is still UPDATE_IN_PROGRESS; CloudFormation "
        "carries on: check again with `webhookctl status`")
    assert sum(clock.sleeps) == 3600


def test_protect_turns_on_termination_protection_after_a_successful_deploy(
        clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = FakeCloudFormation(
        stacks=[stack(NAME, "UPDATE_COMPLETE")],
        on_execute=[([event(NAME, NAME, "UPDATE_COMPLETE")], [stack(NAME, "UPDATE_COMPLETE")])])
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes", "--protect")
    assert result.exit_code == 0, result.output
    assert [kwargs for name, kwargs in fake.calls if name == "update_termination_protection"] == [
        {"StackName": stack_id(NAME), "EnableTerminationProtection": True}]
    assert f"termination protection is on for {NAME}" in result.stderr


def test_protect_is_not_applied_when_the_deploy_fails(clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = FakeCloudFormation(
        stacks=[stack(NAME, "UPDATE_COMPLETE")],
        on_execute=[([event(NAME, NAME, "UPDATE_ROLLBACK_COMPLETE")], [stack(NAME, "UPDATE_ROLLBACK_COMPLETE")])])
    result = run(app_with(clean_emulator, fake), *ARGS, "--yes", "--protect")
    assert result.exit_code == 1
    assert "update_termination_protection" not in fake.call_names()


def test_destroy_refuses_a_protected_stack(clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = FakeCloudFormation(stacks=[stack(NAME, "UPDATE_COMPLETE", EnableTerminationProtection=True)])
    result = run(app_with(clean_emulator, fake), "destroy", "--suffix", "flow", "--yes")
    assert result.exit_code == 1
    assert "--no-enable-termination-protection`, then destroy again" in result.stderr
    assert fake.call_names() == ["describe_stacks"]


def test_destroy_failure_names_the_resource_that_would_not_go(
        clean_emulator: Any, run: Callable[..., Result]) -> None:
    fake = FakeCloudFormation(
        stacks=[stack(NAME, "UPDATE_COMPLETE")],
        on_delete=[([event(NAME, "WebhookTable", "DELETE_FAILED", "Table is being backed up",
                           "AWS::DynamoDB::Table"), event(NAME, NAME, "DELETE_FAILED")],
                    [stack(NAME, "DELETE_IN_PROGRESS"), stack(NAME, "DELETE_FAILED")])])
    result = run(app_with(clean_emulator, fake), "destroy", "--suffix", "flow", "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: could not delete {NAME}: WebhookTable (AWS::DynamoDB::Table): Table is being backed up; the "
        "stack is now DELETE_FAILED: remove or retain the resource named above and try again")


def test_access_denied_names_the_call_and_the_resource(clean_emulator: Any, run: Callable[..., Result]) -> None:
    from botocore.exceptions import ClientError

    message = (f"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
               f"cloudformation:CreateChangeSet on resource: {stack_id(NAME)}")

    class Denied(FakeCloudFormation):
        def create_change_set(self, **kwargs: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, "CreateChangeSet")

    result = run(app_with(clean_emulator, Denied(stacks=[None])), *ARGS, "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: CreateChangeSet: access denied: {message}; the caller needs permission for CreateChangeSet "
        "on the resource named above")


def test_a_failed_stack_is_left_alone_when_the_account_fails_a_preflight_check(
        clean_emulator: Any, run: Callable[..., Result]) -> None:
    # GIVEN a failed first create of ours, in an account whose API Gateway has no CloudWatch Logs role
    fake = rollback_complete_fake()
    app = app_with(clean_emulator, fake)
    app.clients.apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                                            "value": ""}])
    # WHEN deploy runs with --yes (which would allow the delete-and-recreate)
    result = run(app, *ARGS, "--yes")
    # THEN it refuses before touching anything: the failed stack is still there to inspect
    assert result.exit_code == 1
    assert "API Gateway in this region has no CloudWatch Logs role" in result.stderr
    assert "delete_stack" not in fake.call_names() and "create_change_set" not in fake.call_names()
    assert app.clients.s3.list_buckets()["Buckets"] == []
