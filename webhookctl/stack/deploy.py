"""The stack lifecycle: package, upload what changed, plan a change set, execute it while streaming events,
recover stacks stuck in failed states, and report outputs. Progress goes through `Ui`; nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from webhookctl.build.packaging import Artifacts, PipRunner, package_all
from webhookctl.edge.errors import NotConfirmed, StackError
from webhookctl.stack import bucket as buckets
from webhookctl.stack.changeset import ChangeSet, ChangeSetRequest, TemplateSource, changes_table, create_change_set
from webhookctl.stack.outputs import describe_stack, outputs_of
from webhookctl.stack.preflight import apigateway_logging_problem, concurrency_problem
from webhookctl.stack.stack_events import (
    DEPLOY_SUCCESS,
    REVIEW,
    EventStream,
    Timing,
    first_failure,
    is_in_progress,
    wait_for_stack,
)
from webhookctl.templates.outputs import PROCESSOR_FUNCTION, RECEIVER_FUNCTION
from webhookctl.templates.settings import Settings
from webhookctl.templates.settings import stack_name as stack_name_for

# CreateChangeSet's TemplateBody limit; larger templates must be passed as an S3 URL.
TEMPLATE_BODY_LIMIT = 51_200
SUFFIX_TAG = "webhookctl:suffix"


class Ui(Protocol):
    interactive: bool

    def say(self, text: str) -> None: ...

    def confirm(self, question: str) -> bool: ...


@dataclass(frozen=True)
class PackageConfig:
    """Where packaging reads and caches; defaults are the installed handlers and requirements, and the
    user cache directory."""

    cache_dir: Path | None = None
    requirements: Path | None = None
    pip: PipRunner | None = None
    handlers_source: Path | None = None

    def build(self, out_dir: Path) -> Artifacts:
        """handlers.zip and layer.zip in out_dir, deterministic, the layer from the cache when it can."""
        return package_all(out_dir, cache_dir=self.cache_dir, requirements=self.requirements, pip=self.pip,
                           handlers_source=self.handlers_source)


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
        return stack_name_for(self.suffix)


@dataclass
class DeployResult:
    stack_name: str
    status: str  # UP_TO_DATE | CHANGE_SET_CREATED | CREATE_COMPLETE | UPDATE_COMPLETE
    change_set: ChangeSet | None = None
    uploads: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None


@dataclass
class Deployer:
    """One stack's lifecycle against one set of clients."""

    clients: Any
    ui: Ui
    timing: Timing = field(default_factory=Timing)
    packaging: PackageConfig = field(default_factory=PackageConfig)
    _owners: dict[str, str] = field(default_factory=dict, repr=False)  # managed bucket -> this account

    @property
    def cfn(self) -> Any:
        return self.clients.cloudformation

    @property
    def region(self) -> str:
        return self.cfn.meta.region_name

    # --- deploy ---------------------------------------------------------------------------------

    def deploy(self, options: DeployOptions) -> DeployResult:
        settings = self._settings(options)  # bad --set values fail here, before anything is touched
        body = self._render(settings)
        stack = self._ready_stack(options)
        self._preflight(settings, stack)
        bucket = self._bucket(options.bucket, create=True)
        with tempfile.TemporaryDirectory(prefix="webhookctl-") as build:
            artifacts = self.packaging.build(Path(build))
            uploads = [a.key for a in artifacts if buckets.upload_if_missing(
                self.clients.s3, bucket, a.key, a.path, a.sha256, owner=self._owners.get(bucket))]
        for key in uploads:
            self.ui.say(f"uploaded s3://{bucket}/{key}")
        change_set = self._plan(options, body, stack, bucket, artifacts)
        result = DeployResult(options.stack_name, "UP_TO_DATE", change_set, uploads, bucket=bucket)
        if change_set.empty:
            self.ui.say(f"stack {options.stack_name} is up to date")
            if options.fail_on_empty:
                raise StackError(f"stack {options.stack_name} is up to date: nothing to deploy "
                                 "(--fail-on-empty)")
            if options.protect:
                self._protect(options.stack_name)
            result.outputs = self.outputs(options.stack_name)
            return result
        self.ui.say(changes_table(change_set.changes))
        if options.no_execute:
            self.ui.say(f"change set {change_set.name} created, not executed; review it, then run:\n"
                        f"  {self._execute_command(options.stack_name, change_set.name)}")
            result.status = "CHANGE_SET_CREATED"
            return result
        self._confirm_execution(options, change_set)
        final = self._execute(change_set)
        if options.protect:
            self._protect(change_set.stack_id)
        result.status = final["StackStatus"]
        result.outputs = outputs_of(final) or self.outputs(options.stack_name)
        return result

    def _preflight(self, settings: Settings, stack: dict[str, Any] | None) -> None:
        """Refuse before touching anything when the account cannot hold the stack."""
        from botocore.exceptions import ClientError

        checks = {
            "API Gateway's account settings": lambda: apigateway_logging_problem(self.clients.apigateway),
            "Lambda's concurrency quota": lambda: concurrency_problem(
                self.clients.client("lambda"), settings.receiver_reserved_concurrency
                + settings.processor_reserved_concurrency, self._reserved_now(stack)),
        }
        for what, check in checks.items():
            try:
                problem = check()
            except ClientError as exc:  # a deployer without read access there: CloudFormation will tell
                self.ui.say(f"note: could not check {what} ({exc})")
                continue
            if problem:
                raise StackError(problem)

    def _reserved_now(self, stack: dict[str, Any] | None) -> int:
        """What this stack's functions already reserve (an update only needs more than that)."""
        outputs = outputs_of(stack)
        return sum(self._reserved_by(outputs[key]) for key in (RECEIVER_FUNCTION, PROCESSOR_FUNCTION)
                   if key in outputs)

    def _reserved_by(self, function: str) -> int:
        from botocore.exceptions import ClientError

        try:
            answer = self.clients.client("lambda").get_function_concurrency(FunctionName=function)
        except ClientError as exc:  # a stack that rolled back has no functions left
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return 0
            raise
        return int(answer.get("ReservedConcurrentExecutions") or 0)

    def _protect(self, stack: str) -> None:
        # Change sets cannot carry termination protection: it is a call of its own, after success.
        self.cfn.update_termination_protection(StackName=stack, EnableTerminationProtection=True)
        self.ui.say(f"termination protection is on for {stack.split('/')[1] if '/' in stack else stack}")

    def diff(self, options: DeployOptions) -> ChangeSet:
        """The change set deploy would execute, then deleted (with the shell stack of a CREATE)."""
        body = self._render(self._settings(options))
        stack = describe_stack(self.cfn, options.stack_name)
        bucket = options.bucket or _parameter(stack, "ArtifactBucket") or self._bucket(None, create=False)
        with tempfile.TemporaryDirectory(prefix="webhookctl-") as build:
            artifacts = self.packaging.build(Path(build))
        change_set = self._plan(options, body, stack, bucket, artifacts)
        if change_set.empty:
            return change_set
        self.cfn.delete_change_set(ChangeSetName=change_set.id)
        if stack is None:
            # The CREATE change set made an empty REVIEW_IN_PROGRESS stack: leave nothing behind.
            self.cfn.delete_stack(StackName=change_set.stack_id)
        return change_set

    def _bucket(self, given: str | None, create: bool) -> str:
        if given:
            if create:
                buckets.require_bucket(self.clients.s3, given, self.region)
            return given
        account = self.clients.sts.get_caller_identity()["Account"]
        name = buckets.managed_bucket_name(account, self.region)
        # The managed name is guessable: every request insists this account owns it (bucket squatting).
        self._owners[name] = account
        done = buckets.ensure_managed_bucket(self.clients.s3, name, self.region, account) if create else None
        if done:
            self.ui.say(f"{done} artifact bucket s3://{name} (private, encrypted, versioned, TLS only)")
        return name

    def _settings(self, options: DeployOptions) -> Settings:
        from webhookctl.build.render import load_settings

        settings = load_settings(options.suffix, options.settings)
        for warning in settings.capacity_warnings():
            self.ui.say(f"warning: {warning}")
        return settings

    def _render(self, settings: Settings) -> str:
        """The template as compact JSON (well under the body limit; key order kept for readers)."""
        from webhookctl.build.render import template_dict

        return json.dumps(template_dict(settings), separators=(",", ":"))

    def _plan(self, options: DeployOptions, body: str, stack: dict[str, Any] | None, bucket: str,
              artifacts: Artifacts) -> ChangeSet:
        exists = stack is not None and stack["StackStatus"] != REVIEW
        request = ChangeSetRequest(
            stack_name=options.stack_name, name=self._change_set_name(),
            change_set_type="UPDATE" if exists else "CREATE",
            template=self._template_source(bucket, body),
            parameters={"ArtifactBucket": bucket, "HandlersKey": artifacts.handlers.key,
                        "LayerKey": artifacts.layer.key},
            tags={**options.tags, SUFFIX_TAG: options.suffix})
        return create_change_set(self.cfn, request, self.timing)

    def _template_source(self, bucket: str, body: str) -> TemplateSource:
        data = body.encode()
        if len(data) <= TEMPLATE_BODY_LIMIT:
            return TemplateSource(body=body)
        key = f"templates/{hashlib.sha256(data).hexdigest()}.json"
        if buckets.put_if_missing(self.clients.s3, bucket, key, data, "application/json",
                                  owner=self._owners.get(bucket)):
            self.ui.say(f"uploaded s3://{bucket}/{key} (template over {TEMPLATE_BODY_LIMIT} bytes)")
        return TemplateSource(url=f"https://{bucket}.s3.{self.region}.amazonaws.com/{key}")

    def _change_set_name(self) -> str:
        # Milliseconds: two deploys started in the same second must not collide (AlreadyExistsException).
        return "webhookctl-" + self.timing.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]

    def _execute_command(self, stack_name: str, change_set_name: str) -> str:
        return (f"aws cloudformation execute-change-set --region {self.region} --stack-name {stack_name} "
                f"--change-set-name {change_set_name}")

    def _confirm_execution(self, options: DeployOptions, change_set: ChangeSet) -> None:
        if options.yes:
            return
        if not self.ui.interactive:
            command = self._execute_command(options.stack_name, change_set.name)
            raise NotConfirmed(f"not executing change set {change_set.name}: no terminal to confirm on; "
                               f"re-run with --yes, or execute the change set as created: {command}")
        if not self.ui.confirm(f"Execute change set {change_set.name} on {options.stack_name}?"):
            self.cfn.delete_change_set(ChangeSetName=change_set.id)
            raise NotConfirmed(f"deploy cancelled: change set {change_set.name} deleted, stack unchanged")

    def _execute(self, change_set: ChangeSet) -> dict[str, Any]:
        stream = EventStream(self.cfn, change_set.stack_id)
        stream.mark_existing()
        self.cfn.execute_change_set(ChangeSetName=change_set.id)
        final = wait_for_stack(self.cfn, stream, self.ui.say, self.timing)
        if final["StackStatus"] not in DEPLOY_SUCCESS:
            raise StackError(self._failure_message(final, stream))
        return final

    def _failure_message(self, final: dict[str, Any], stream: EventStream) -> str:
        name, status = final["StackName"], final["StackStatus"]
        cause = first_failure(stream.history) or final.get("StackStatusReason") or "no reason reported"
        advice = {
            "ROLLBACK_COMPLETE": "the first create failed and nothing was kept; fix the cause and run deploy "
                                 "again (it offers to delete and recreate the stack)",
            "UPDATE_ROLLBACK_COMPLETE": "the stack is back on its previous version; fix the cause and "
                                        "deploy again",
            "UPDATE_ROLLBACK_FAILED": self._continue_rollback_advice(name),
        }.get(status, f"check `webhookctl status --suffix {name.removeprefix('payment-webhooks-')}`")
        return f"deploy of {name} failed: {cause}; the stack is now {status}: {advice}"

    def _continue_rollback_advice(self, stack_name: str) -> str:
        return ("finish the rollback with `aws cloudformation continue-update-rollback --region "
                f"{self.region} --stack-name {stack_name}` (add --resources-to-skip LOGICAL_ID for a "
                "resource that cannot roll back), then deploy again")

    # --- stack state before deploying ----------------------------------------------------------

    def _ready_stack(self, options: DeployOptions) -> dict[str, Any] | None:
        """The stack in a state a change set can apply to (None = create), after waits and recovery."""
        stack = describe_stack(self.cfn, options.stack_name)
        if stack is not None and is_in_progress(stack["StackStatus"]):
            self.ui.say(f"stack {options.stack_name} is {stack['StackStatus']}: waiting for it to finish")
            stream = EventStream(self.cfn, stack["StackId"])
            stream.mark_existing()
            stack = wait_for_stack(self.cfn, stream, self.ui.say, self.timing)
            stack = None if stack["StackStatus"] == "DELETE_COMPLETE" else stack
        if stack is None:
            return None
        status = stack["StackStatus"]
        if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
            self._recreate(options, stack)
            return None
        if status == "UPDATE_ROLLBACK_FAILED":
            raise StackError(f"stack {options.stack_name} is UPDATE_ROLLBACK_FAILED: an update failed and "
                             f"so did its rollback; {self._continue_rollback_advice(options.stack_name)}")
        if status in ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED"):
            raise StackError(_stuck_advice(options.stack_name, status, self.region))
        return stack

    def _recreate(self, options: DeployOptions, stack: dict[str, Any]) -> None:
        name, status = options.stack_name, stack["StackStatus"]
        self.ui.say(f"stack {name} is {status}: its first create failed and CloudFormation cannot update it; "
                    "it must be deleted and created again (it holds no data: the failed create kept nothing)")
        tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
        if tags.get(SUFFIX_TAG) != options.suffix:
            raise StackError(f"stack {name} is {status} but was not created by webhookctl (no {SUFFIX_TAG}="
                             f"{options.suffix} tag): delete it yourself if it is safe, then deploy again")
        if not options.yes:
            if not self.ui.interactive:
                raise NotConfirmed(f"stack {name} is {status}: re-run with --yes to delete and recreate it, "
                                   f"or delete it with `webhookctl destroy --suffix {options.suffix}`")
            if not self.ui.confirm(f"Delete {name} ({status}) and create it again?"):
                raise NotConfirmed(f"deploy cancelled: stack {name} left {status}")
        self._delete_and_wait(stack)

    def _delete_and_wait(self, stack: dict[str, Any]) -> dict[str, Any]:
        stream = EventStream(self.cfn, stack["StackId"])
        stream.mark_existing()
        self.cfn.delete_stack(StackName=stack["StackId"])
        final = wait_for_stack(self.cfn, stream, self.ui.say, self.timing)
        if final["StackStatus"] != "DELETE_COMPLETE":
            cause = first_failure(stream.history) or final.get("StackStatusReason") or "no reason reported"
            raise StackError(f"could not delete {stack['StackName']}: {cause}; the stack is now "
                             f"{final['StackStatus']}: remove or retain the resource named above and try "
                             "again")
        return final

    # --- status, outputs, destroy ---------------------------------------------------------------

    def outputs(self, stack_name: str) -> dict[str, str]:
        return outputs_of(describe_stack(self.cfn, stack_name))

    def destroy(self, suffix: str, yes: bool, purge_artifacts: bool) -> str:
        """Delete the stack while streaming its events; returns its final status."""
        name = stack_name_for(suffix)
        stack = describe_stack(self.cfn, name)
        if stack is None:
            self.ui.say(f"stack {name} does not exist: nothing to destroy")
            return "ABSENT"
        if stack.get("EnableTerminationProtection"):
            raise StackError(f"stack {name} has termination protection: lift it with `aws cloudformation "
                             f"update-termination-protection --region {self.region} --stack-name {name} "
                             "--no-enable-termination-protection`, then destroy again")
        if not yes:
            if not self.ui.interactive:
                raise NotConfirmed(f"not destroying {name} without confirmation: re-run with --yes")
            if not self.ui.confirm(f"Delete stack {name} and every resource in it (the table's data too)?"):
                raise NotConfirmed(f"destroy cancelled: stack {name} left as it was")
        final = self._delete_and_wait(stack)
        if purge_artifacts:
            self._purge(stack)
        return final["StackStatus"]

    def _purge(self, stack: dict[str, Any]) -> None:
        bucket = _parameter(stack, "ArtifactBucket")
        if not bucket:
            return
        in_use = self._artifacts_in_use(bucket)
        for parameter in ARTIFACT_PARAMETERS:
            key = _parameter(stack, parameter)
            if not key:
                continue
            if key in in_use:
                # Keys are content hashes: another stack deployed from the same sources shares them.
                self.ui.say(f"kept s3://{bucket}/{key}: stack {in_use[key]} still uses it")
                continue
            removed = buckets.delete_all_versions(self.clients.s3, bucket, key)
            self.ui.say(f"deleted s3://{bucket}/{key} ({removed} version(s))")

    def _artifacts_in_use(self, bucket: str) -> dict[str, str]:
        """key -> name of a live stack whose parameters point at it in this bucket."""
        in_use: dict[str, str] = {}
        for page in self.cfn.get_paginator("describe_stacks").paginate():
            for other in page["Stacks"]:
                if _parameter(other, "ArtifactBucket") == bucket:
                    in_use.update({key: other["StackName"] for p in ARTIFACT_PARAMETERS
                                   if (key := _parameter(other, p))})
        return in_use


ARTIFACT_PARAMETERS = ("HandlersKey", "LayerKey")


def _parameter(stack: dict[str, Any] | None, key: str) -> str | None:
    for parameter in (stack or {}).get("Parameters", []):
        if parameter["ParameterKey"] == key:
            return parameter.get("ParameterValue")
    return None


def _stuck_advice(name: str, status: str, region: str) -> str:
    if status == "DELETE_FAILED":
        return (f"stack {name} is DELETE_FAILED: a resource could not be deleted; see `aws cloudformation "
                f"describe-stack-events --region {region} --stack-name {name}`, fix it, then destroy again")
    return (f"stack {name} is {status} with rollback disabled: roll it back with `aws cloudformation "
            f"rollback-stack --region {region} --stack-name {name}`, then deploy again")
