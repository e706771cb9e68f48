"""The deploy plan is a value: state + what was built -> what will be done, decided with no AWS at all.

Every refusal happens here, before `apply` could change anything: a failed stack is only deleted once the
preflight checks passed and the artifacts were built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from webhookctl.building.packaging import Artifact, Artifacts
from webhookctl.edge.errors import StackError
from webhookctl.stack.plan import BucketState, DeployOptions, StackState, plan_deploy

NAME = "payment-webhooks-prod"
OPTIONS = DeployOptions(suffix="prod", tags={"team": "payments"})
ARTIFACTS = Artifacts(Artifact("handlers", Path("/b/handlers.zip"), "a" * 64, 100),
                      Artifact("layer", Path("/b/layer.zip"), "b" * 64, 50))
MANAGED = BucketState("webhookctl-artifacts-123456789012-eu-west-1", "123456789012", None)


def state(status: str | None = None, *, tags: dict[str, str] | None = None, existing: frozenset = frozenset(),
          problems: tuple[str, ...] = (), bucket: BucketState = MANAGED) -> StackState:
    stack = None if status is None else {
        "StackName": NAME, "StackId": f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{NAME}/1",
        "StackStatus": status, "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
    return StackState("eu-west-1", stack, bucket, "aws --region eu-west-1", existing, problems)


def plan(current: StackState, body: str = "{}", limit: int = 51_200):
    return plan_deploy(OPTIONS, current, ARTIFACTS, body, "webhookctl-20260102-030405-000", limit)


def test_a_first_deploy_creates_the_bucket_uploads_both_zips_and_creates_the_stack():
    result = plan(state(bucket=BucketState(MANAGED.name, MANAGED.owner, "create")))
    assert (result.recreate, result.change_set.change_set_type) == (None, "CREATE")
    assert [a.name for a in result.uploads] == ["handlers", "layer"]
    assert result.change_set.parameters == {"ArtifactBucket": MANAGED.name, "HandlersKey": f"handlers/{'a' * 64}.zip",
                                            "LayerKey": f"layer/{'b' * 64}.zip"}
    assert result.change_set.tags == {"team": "payments", "webhookctl:suffix": "prod"}
    assert result.describe() == [
        f"create artifact bucket s3://{MANAGED.name}",
        f"upload s3://{MANAGED.name}/handlers/{'a' * 64}.zip (100 bytes)",
        f"upload s3://{MANAGED.name}/layer/{'b' * 64}.zip (50 bytes)",
        f"create change set webhookctl-20260102-030405-000 for {NAME}"]


def test_an_update_uploads_only_what_the_bucket_lacks():
    result = plan(state("UPDATE_COMPLETE", existing=frozenset({ARTIFACTS.layer.key})))
    assert result.change_set.change_set_type == "UPDATE"
    assert [a.name for a in result.uploads] == ["handlers"]


def test_a_review_in_progress_shell_is_created_into():
    assert plan(state("REVIEW_IN_PROGRESS")).change_set.change_set_type == "CREATE"


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "ROLLBACK_FAILED"])
def test_a_failed_first_create_of_ours_is_planned_as_delete_then_create(status):
    result = plan(state(status, tags={"webhookctl:suffix": "prod"}))
    assert (result.recreate, result.change_set.change_set_type) == (status, "CREATE")
    assert result.describe()[0].startswith(f"delete stack {NAME} ({status}: its first create failed")


def test_a_failed_stack_that_is_not_ours_is_refused():
    with pytest.raises(StackError, match=r"ROLLBACK_COMPLETE but was not created by webhookctl \(no "
                                         r"webhookctl:suffix=prod tag\)"):
        plan(state("ROLLBACK_COMPLETE", tags={"webhookctl:suffix": "other"}))


def test_a_failed_stack_is_not_deleted_when_a_preflight_check_refuses_the_deploy():
    # GIVEN a failed first create of ours, in an account whose quota cannot hold the functions
    current = state("ROLLBACK_COMPLETE", tags={"webhookctl:suffix": "prod"}, problems=("the quota is 10",))
    # THEN no plan is made at all: nothing, the failed stack included, will be touched
    with pytest.raises(StackError, match="the quota is 10"):
        plan(current)


@pytest.mark.parametrize(("status", "advice"), [
    ("UPDATE_ROLLBACK_FAILED", "aws --region eu-west-1 cloudformation continue-update-rollback --stack-name "
                               "payment-webhooks-prod"),
    ("UPDATE_FAILED", "aws --region eu-west-1 cloudformation rollback-stack --stack-name payment-webhooks-prod"),
    ("DELETE_FAILED", "aws --region eu-west-1 cloudformation describe-stack-events --stack-name payment-webhooks-prod"),
])
def test_stacks_a_change_set_cannot_apply_to_are_refused_with_the_command_to_run(status, advice):
    with pytest.raises(StackError, match=advice):
        plan(state(status))


def test_a_template_over_the_body_limit_is_uploaded_and_passed_by_url():
    result = plan(state("UPDATE_COMPLETE"), body="x" * 101, limit=100)
    upload = result.template_upload
    assert upload is not None and upload.key.startswith("templates/") and upload.body == b"x" * 101
    assert result.change_set.template.url == \
        f"https://{MANAGED.name}.s3.eu-west-1.amazonaws.com/{upload.key}"
    assert plan(state("UPDATE_COMPLETE"), body="x" * 100, limit=100).template_upload is None
