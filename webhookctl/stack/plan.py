"""A deploy as a value: what is there (StackState) + what was built -> what will be done (DeployPlan).

Pure: no AWS, no files. Every refusal (a stack CloudFormation cannot update, an account that cannot hold
the stack, a failed stack that is not ours) is raised here, before anything is changed; the plan is then
applied by `webhookctl.stack.deploy`, which alone creates, uploads, deletes and executes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webhookctl.building.packaging import Artifact, Artifacts
from webhookctl.edge.errors import StackError
from webhookctl.handlers.webhook_common.contract import names
from webhookctl.handlers.webhook_common.contract import stack as contract
from webhookctl.stack.changeset import ChangeSetRequest, TemplateSource
from webhookctl.stack.outputs import REVIEW

# CreateChangeSet's TemplateBody limit; larger templates must be passed as an S3 URL.
TEMPLATE_BODY_LIMIT = 51_200
# A failed first create: CloudFormation can only delete it (ROLLBACK_COMPLETE cannot be updated).
RECREATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
STUCK = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")


@dataclass(frozen=True)
class DeployOptions:
    suffix: str
    settings: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None
    yes: bool = False
    no_execute: bool = False
    fail_on_empty: bool = False
    protect: bool = False

    @property
    def stack_name(self) -> str:
        return names.stack_name(self.suffix)


@dataclass(frozen=True)
class BucketState:
    name: str
    owner: str | None  # the managed bucket's account: every request insists on it (its name is guessable)
    action: str | None  # "create" | "harden" | None (ready, or given with --bucket)


@dataclass(frozen=True)
class StackState:
    """What is deployed, read without changing anything (an in-progress operation already waited out)."""

    region: str
    stack: dict[str, Any] | None
    bucket: BucketState
    aws_cli: str = "aws"  # how a printed command reaches the same account, region and endpoint
    existing_keys: frozenset[str] = frozenset()  # artifact keys already in the bucket
    problems: tuple[str, ...] = ()  # preflight refusals: the account cannot hold the stack
    notes: tuple[str, ...] = ()  # checks that could not run
    reverts: tuple[Any, ...] = ()  # templates.metadata.Revert: deployed settings this run changes back

    @property
    def status(self) -> str | None:
        return None if self.stack is None else self.stack["StackStatus"]


@dataclass(frozen=True)
class TemplateUpload:
    key: str
    body: bytes
    limit: int  # the body limit it is over


@dataclass(frozen=True)
class DeployPlan:
    stack_name: str
    suffix: str
    region: str
    bucket: BucketState
    uploads: tuple[Artifact, ...]
    template_upload: TemplateUpload | None
    change_set: ChangeSetRequest
    recreate: str | None = None  # status of the failed first create deleted before the change set
    protect: bool = False
    reverts: tuple[Any, ...] = ()  # templates.metadata.Revert: confirmed (or --yes) before anything changes

    def describe(self) -> list[str]:
        """The plan in words, in the order it is applied."""
        lines = []
        if self.recreate:
            lines.append(f"delete stack {self.stack_name} ({self.recreate}: its first create failed and kept "
                         "nothing), then create it again")
        if self.bucket.action:
            lines.append(f"{self.bucket.action} artifact bucket s3://{self.bucket.name}")
        lines += [f"upload s3://{self.bucket.name}/{a.key} ({a.size} bytes)" for a in self.uploads]
        if self.template_upload:
            lines.append(f"upload s3://{self.bucket.name}/{self.template_upload.key} (template over "
                         f"{self.template_upload.limit} bytes)")
        lines.append(f"{self.change_set.change_set_type.lower()} change set {self.change_set.name} "
                     f"for {self.stack_name}")
        return lines


def plan_deploy(options: DeployOptions, state: StackState, artifacts: Artifacts, body: str,
                change_set_name: str, body_limit: int = TEMPLATE_BODY_LIMIT) -> DeployPlan:
    """The deploy to apply, or a StackError saying why none can be (nothing has been changed yet)."""
    if state.problems:
        raise StackError(state.problems[0])
    recreate = _recreate(options, state)
    exists = state.stack is not None and state.status != REVIEW and recreate is None
    template, upload = template_source(body, state.bucket.name, state.region, body_limit)
    request = ChangeSetRequest(
        stack_name=options.stack_name, name=change_set_name,
        change_set_type="UPDATE" if exists else "CREATE", template=template,
        parameters={contract.ARTIFACT_BUCKET: state.bucket.name, contract.HANDLERS_KEY: artifacts.handlers.key,
                    contract.LAYER_KEY: artifacts.layer.key},
        tags={**options.tags, names.SUFFIX_TAG: options.suffix})
    uploads = tuple(a for a in artifacts if a.key not in state.existing_keys)
    return DeployPlan(options.stack_name, options.suffix, state.region, state.bucket, uploads, upload, request,
                      recreate, options.protect, () if recreate else state.reverts)


def _recreate(options: DeployOptions, state: StackState) -> str | None:
    """The failed-create status to delete and recreate from, None to update, or a refusal."""
    status, name = state.status, options.stack_name
    if status is None:
        return None
    if status in RECREATABLE:
        if _tags(state.stack).get(names.SUFFIX_TAG) != options.suffix:
            raise StackError(f"stack {name} is {status} but was not created by webhookctl (no {names.SUFFIX_TAG}="
                             f"{options.suffix} tag): delete it yourself if it is safe, then deploy again")
        return status
    if status == "UPDATE_ROLLBACK_FAILED":
        raise StackError(f"stack {name} is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback; "
                         f"{continue_rollback_advice(name, state.aws_cli)}")
    if status in STUCK:
        raise StackError(stuck_advice(name, status, state.aws_cli))
    return None


def _tags(stack: Mapping[str, Any] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (stack or {}).get("Tags", [])}


def template_source(body: str, bucket: str, region: str,
                    limit: int = TEMPLATE_BODY_LIMIT) -> tuple[TemplateSource, TemplateUpload | None]:
    """The body itself, or (over the limit) an S3 URL and the content-addressed upload it needs."""
    data = body.encode()
    if len(data) <= limit:
        return TemplateSource(body=body), None
    key = template_key(data)
    return TemplateSource(url=f"https://{bucket}.s3.{region}.amazonaws.com/{key}"), TemplateUpload(key, data, limit)


def template_key(body: bytes) -> str:
    """Where an uploaded template lives in the artifact bucket: named by its content."""
    return f"templates/{hashlib.sha256(body).hexdigest()}.json"


def continue_rollback_advice(stack_name: str, aws: str) -> str:
    return (f"finish the rollback with `{aws} cloudformation continue-update-rollback --stack-name {stack_name}` "
            "(add --resources-to-skip LOGICAL_ID for a resource that cannot roll back), then deploy again")


def stuck_advice(name: str, status: str, aws: str) -> str:
    if status == "DELETE_FAILED":
        return (f"stack {name} is DELETE_FAILED: a resource could not be deleted; see `{aws} cloudformation "
                f"describe-stack-events --stack-name {name}`, fix it, then destroy again")
    return (f"stack {name} is {status} with rollback disabled: roll it back with `{aws} cloudformation "
            f"rollback-stack --stack-name {name}`, then deploy again")
