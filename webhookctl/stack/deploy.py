"""The stack lifecycle in chalice's stages: settings -> template and artifacts -> state -> plan -> apply.

`gather` only reads (and waits out an operation already in progress); `plan_deploy` decides, purely;
`apply` is the only stage that creates, uploads, deletes or executes, so a deploy refused by any check
has changed nothing. Progress goes through `Ui`; nothing here prints.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from webhookctl.building.packaging import Artifacts, PackageConfig
from webhookctl.edge.errors import Interrupted, NotConfirmed, StackError
from webhookctl.handlers.webhook_common.contract import names
from webhookctl.handlers.webhook_common.contract import stack as contract
from webhookctl.stack import bucket as buckets
from webhookctl.stack.changeset import ChangeSet, changes_table, create_change_set
from webhookctl.stack.outputs import describe_stack, outputs_of, parameter_of
from webhookctl.stack.plan import (
    TEMPLATE_BODY_LIMIT,
    BucketState,
    DeployOptions,
    DeployPlan,
    StackState,
    continue_rollback_advice,
    plan_deploy,
    template_key,
)
from webhookctl.stack.preflight import preflight, recorded_settings_of
from webhookctl.stack.stack_events import (
    DEPLOY_SUCCESS,
    EventStream,
    Timing,
    first_failure,
    is_in_progress,
    wait_for_stack,
)
from webhookctl.templates.settings import Settings, retention_notice

__all__ = ["DeployOptions", "DeployResult", "Deployer", "PackageConfig"]


class Ui(Protocol):
    interactive: bool

    def say(self, text: str) -> None: ...

    def confirm(self, question: str) -> bool: ...


@dataclass
class DeployResult:
    stack_name: str
    status: str  # UP_TO_DATE | CHANGE_SET_CREATED | CREATE_COMPLETE | UPDATE_COMPLETE
    change_set: ChangeSet | None = None
    uploads: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None
    plan: DeployPlan | None = None


@dataclass
class Deployer:
    """One stack's lifecycle against one set of clients."""

    clients: Any
    ui: Ui
    timing: Timing = field(default_factory=Timing)
    packaging: PackageConfig = field(default_factory=PackageConfig)
    template_body_limit: int = TEMPLATE_BODY_LIMIT

    @property
    def cfn(self) -> Any:
        return self.clients.cloudformation

    @property
    def region(self) -> str:
        return self.cfn.meta.region_name

    # --- the stages -----------------------------------------------------------------------------

    def deploy(self, options: DeployOptions) -> DeployResult:
        settings = self._settings(options)  # bad --set values fail here, before anything is read
        body = self._render(settings)
        state = self.gather(options, settings)
        with self._built() as artifacts:
            state = self.with_existing_keys(state, artifacts)
            plan = plan_deploy(options, state, artifacts, body, self._change_set_name(), self.template_body_limit)
            return self.apply(plan, options)

    def gather(self, options: DeployOptions, settings: Settings, for_diff: bool = False) -> StackState:
        """Everything the plan depends on, read without changing anything (before the slower build)."""
        stack = self._settled_stack(options.stack_name)
        bucket = self._bucket_state(options.bucket, stack if for_diff else None)
        problems, notes = preflight(self.clients, settings, stack)
        reverts, note = self._reverts(options, settings, stack)
        notes += [note] if note else []
        for note in notes:
            self.ui.say(note)
        for revert in reverts:
            self.ui.say(f"warning: {revert.describe()}")
        return StackState(self.region, stack, bucket, self.clients.aws_cli, problems=tuple(problems),
                          notes=tuple(notes), reverts=tuple(reverts))

    def _reverts(self, options: DeployOptions, settings: Settings,
                 stack: dict[str, Any] | None) -> tuple[list, str | None]:
        """The deployed settings this run would change back unasked, and a note if they could not be read."""
        from webhookctl.templates.metadata import reverts

        recorded, note = recorded_settings_of(self.cfn, stack)
        return reverts(recorded, settings, set(options.settings)), note

    def with_existing_keys(self, state: StackState, artifacts: Artifacts) -> StackState:
        """The state plus which of the built artifacts the bucket already holds (content-addressed)."""
        bucket = state.bucket
        existing = frozenset(a.key for a in artifacts if bucket.action != "create" and buckets.object_exists(
            self.clients.s3, bucket.name, a.key, bucket.owner))
        return replace(state, existing_keys=existing)

    def apply(self, plan: DeployPlan, options: DeployOptions) -> DeployResult:
        """The plan's steps in order; the only stage that changes anything."""
        self._confirm_reverts(plan, options)
        if plan.recreate:
            self._confirm_recreate(plan, options)
        result = DeployResult(plan.stack_name, "UP_TO_DATE", bucket=plan.bucket.name, plan=plan)
        if plan.recreate:
            self._delete_and_wait(describe_stack(self.cfn, plan.stack_name))
        self._prepare_bucket(plan)
        result.uploads = self._upload(plan)
        try:
            result.change_set = change_set = create_change_set(self.cfn, plan.change_set, self.timing)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted while CloudFormation created change set {plan.change_set.name}: it "
                              f"stays for review; delete it with `{self.clients.aws_cli} cloudformation "
                              f"delete-change-set --stack-name {plan.stack_name} --change-set-name "
                              f"{plan.change_set.name}` or deploy again") from None
        if change_set.empty:
            return self._up_to_date(plan, options, result)
        self.ui.say(changes_table(change_set.changes))
        if options.no_execute:
            self.ui.say(f"change set {change_set.name} created, not executed; review it, then run:\n"
                        f"  {self._execute_command(plan.stack_name, change_set.name)}")
            result.status = "CHANGE_SET_CREATED"
            return result
        self._confirm_execution(options, change_set)
        final = self._execute(change_set)
        if plan.protect:
            self._protect(change_set.stack_id)
        result.status = final["StackStatus"]
        result.outputs = outputs_of(final) or self.outputs(plan.stack_name)
        return result

    def diff(self, options: DeployOptions) -> tuple[DeployPlan, ChangeSet | None]:
        """The plan and the change set deploy would execute (created, then deleted); None when the plan
        recreates the stack (every resource would be created)."""
        settings = self._settings(options)
        body = self._render(settings)
        state = self.gather(options, settings, for_diff=True)
        with self._built() as artifacts:
            state = self.with_existing_keys(state, artifacts)
            plan = plan_deploy(options, state, artifacts, body, self._change_set_name(), self.template_body_limit)
        if plan.recreate:
            return plan, None
        if plan.template_upload:
            # Over the body limit CloudFormation reads the template from S3 even for a change set that is only
            # looked at (as `aws cloudformation deploy --no-execute-changeset` does): the same
            # content-addressed object deploy would upload.
            self._prepare_bucket(plan)
            self._upload_template(plan)
        change_set = create_change_set(self.cfn, plan.change_set, self.timing)
        if not change_set.empty:
            self.cfn.delete_change_set(ChangeSetName=change_set.id)
            if state.stack is None or state.status == "REVIEW_IN_PROGRESS":
                # The CREATE change set made an empty REVIEW_IN_PROGRESS stack: leave nothing behind.
                self.cfn.delete_stack(StackName=change_set.stack_id)
        return plan, change_set

    # --- gathering ------------------------------------------------------------------------------

    def _settled_stack(self, name: str) -> dict[str, Any] | None:
        """The stack's description once no operation is in progress on it (None: absent)."""
        stack = describe_stack(self.cfn, name)
        if stack is not None and is_in_progress(stack["StackStatus"]):
            self.ui.say(f"stack {name} is {stack['StackStatus']}: waiting for it to finish")
            stream = EventStream(self.cfn, stack["StackId"])
            stream.mark_existing()
            stack = wait_for_stack(self.cfn, stream, self.ui.say, self.timing)
            stack = None if stack["StackStatus"] == "DELETE_COMPLETE" else stack
        return stack

    def _bucket_state(self, given: str | None, deployed: dict[str, Any] | None) -> BucketState:
        given = given or parameter_of(deployed, contract.ARTIFACT_BUCKET)
        if given:
            buckets.require_bucket(self.clients.s3, given, self.region)
            return BucketState(given, None, None)
        account = self.clients.sts.get_caller_identity()["Account"]
        name = buckets.managed_bucket_name(account, self.region)
        return BucketState(name, account, buckets.managed_bucket_action(self.clients.s3, name, account))

    @contextmanager
    def _built(self) -> Iterator[Artifacts]:
        with tempfile.TemporaryDirectory(prefix="webhookctl-") as build:
            yield self.packaging.build(Path(build))

    def _settings(self, options: DeployOptions) -> Settings:
        from webhookctl.building.render import load_settings

        settings = load_settings(options.suffix, options.settings)
        for warning in settings.capacity_warnings():
            self.ui.say(f"warning: {warning}")
        if notice := retention_notice(settings):
            self.ui.say(notice)
        return settings

    def _render(self, settings: Settings) -> str:
        """The template as compact JSON, from the render cache while the code that made it is unchanged."""
        from webhookctl.building.render import COMPACT_JSON, render_template
        from webhookctl.edge.cache import default_cache_dir

        return render_template(settings, COMPACT_JSON, cache_dir=self.packaging.cache_dir or default_cache_dir())

    def _change_set_name(self) -> str:
        # Milliseconds: two deploys started in the same second must not collide (AlreadyExistsException).
        return "webhookctl-" + self.timing.clock.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]

    # --- applying -------------------------------------------------------------------------------

    def _prepare_bucket(self, plan: DeployPlan) -> None:
        if plan.bucket.action:
            buckets.prepare_managed_bucket(self.clients.s3, plan.bucket.name, plan.region, plan.bucket.owner,
                                           plan.bucket.action)
            done = {"create": "created", "harden": "hardened"}[plan.bucket.action]
            self.ui.say(f"{done} artifact bucket s3://{plan.bucket.name} (private, encrypted, versioned, TLS only)")

    def _upload(self, plan: DeployPlan) -> list[str]:
        s3, bucket, owner = self.clients.s3, plan.bucket.name, plan.bucket.owner
        uploaded = [a.key for a in plan.uploads
                    if buckets.upload_if_missing(s3, bucket, a.key, a.path, a.sha256, owner=owner)]
        for key in uploaded:
            self.ui.say(f"uploaded s3://{bucket}/{key}")
        self._upload_template(plan)
        return uploaded

    def _upload_template(self, plan: DeployPlan) -> None:
        upload = plan.template_upload
        if upload and buckets.put_if_missing(self.clients.s3, plan.bucket.name, upload.key, upload.body,
                                             "application/json", owner=plan.bucket.owner):
            self.ui.say(f"uploaded s3://{plan.bucket.name}/{upload.key} (template over {upload.limit} bytes)")

    def _up_to_date(self, plan: DeployPlan, options: DeployOptions, result: DeployResult) -> DeployResult:
        self.ui.say(f"stack {plan.stack_name} is up to date")
        if options.fail_on_empty:
            raise StackError(f"stack {plan.stack_name} is up to date: nothing to deploy (--fail-on-empty)")
        if plan.protect:
            self._protect(plan.stack_name)
        result.outputs = self.outputs(plan.stack_name)
        return result

    def _confirm_recreate(self, plan: DeployPlan, options: DeployOptions) -> None:
        name, status = plan.stack_name, plan.recreate
        self.ui.say(f"stack {name} is {status}: its first create failed and CloudFormation cannot update it; "
                    "it must be deleted and created again (it holds no data: the failed create kept nothing)")
        if options.yes:
            return
        if not self.ui.interactive:
            raise NotConfirmed(f"stack {name} is {status}: re-run with --yes to delete and recreate it, "
                               f"or delete it with `webhookctl destroy --suffix {options.suffix}`")
        if not self.ui.confirm(f"Delete {name} ({status}) and create it again?"):
            raise NotConfirmed(f"deploy cancelled: stack {name} left {status}")

    def _confirm_reverts(self, plan: DeployPlan, options: DeployOptions) -> None:
        """Settings would revert: go ahead only on --yes, --no-execute (nothing runs) or a yes in a terminal."""
        if not plan.reverts or options.yes or options.no_execute:
            return
        count = f"{len(plan.reverts)} setting(s) the stack was deployed with"
        if not self.ui.interactive:
            raise NotConfirmed(f"not deploying {plan.stack_name}: {count} would revert (see the warnings); pass "
                               "them with --set or in webhookctl.toml, or re-run with --yes to revert them")
        if not self.ui.confirm(f"Deploy {plan.stack_name} anyway, reverting {count}?"):
            raise NotConfirmed(f"deploy cancelled: {plan.stack_name} left as it was")

    def _protect(self, stack: str) -> None:
        # Change sets cannot carry termination protection: it is a call of its own, after success.
        self.cfn.update_termination_protection(StackName=stack, EnableTerminationProtection=True)
        self.ui.say(f"termination protection is on for {stack.split('/')[1] if '/' in stack else stack}")

    def _execute_command(self, stack_name: str, change_set_name: str) -> str:
        return (f"{self.clients.aws_cli} cloudformation execute-change-set --stack-name {stack_name} "
                f"--change-set-name {change_set_name}")

    def _confirm_execution(self, options: DeployOptions, change_set: ChangeSet) -> None:
        if options.yes:
            return
        if not self.ui.interactive:
            command = self._execute_command(options.stack_name, change_set.name)
            raise NotConfirmed(f"not executing change set {change_set.name}: no terminal to confirm on; "
                               f"re-run with --yes, or execute the change set as created: {command}")
        try:
            confirmed = self.ui.confirm(f"Execute change set {change_set.name} on {options.stack_name}?")
        except (KeyboardInterrupt, EOFError):
            self.cfn.delete_change_set(ChangeSetName=change_set.id)
            raise Interrupted(f"interrupted: change set {change_set.name} deleted, stack unchanged") from None
        if not confirmed:
            self.cfn.delete_change_set(ChangeSetName=change_set.id)
            raise NotConfirmed(f"deploy cancelled: change set {change_set.name} deleted, stack unchanged")

    def _execute(self, change_set: ChangeSet) -> dict[str, Any]:
        stream = EventStream(self.cfn, change_set.stack_id)
        stream.mark_existing()
        self.cfn.execute_change_set(ChangeSetName=change_set.id)
        try:
            final = wait_for_stack(self.cfn, stream, self.ui.say, self.timing)
        except KeyboardInterrupt:
            name = change_set.stack_id.split("/")[1] if "/" in (change_set.stack_id or "") else change_set.name
            raise Interrupted(f"interrupted: change set {change_set.name} is executing and CloudFormation carries "
                              f"on without webhookctl; follow it with `webhookctl status --suffix "
                              f"{names.suffix_of(name)}`") from None
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
            "UPDATE_ROLLBACK_FAILED": continue_rollback_advice(name, self.clients.aws_cli),
        }.get(status, f"check `webhookctl status --suffix {names.suffix_of(name)}`")
        return f"deploy of {name} failed: {cause}; the stack is now {status}: {advice}"

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
        name = names.stack_name(suffix)
        stack = describe_stack(self.cfn, name)
        if stack is None:
            self.ui.say(f"stack {name} does not exist: nothing to destroy")
            return "ABSENT"
        if stack.get("EnableTerminationProtection"):
            raise StackError(f"stack {name} has termination protection: lift it with `{self.clients.aws_cli} "
                             f"cloudformation update-termination-protection --stack-name {name} "
                             "--no-enable-termination-protection`, then destroy again")
        if not yes:
            if not self.ui.interactive:
                raise NotConfirmed(f"not destroying {name} without confirmation: re-run with --yes")
            if not self.ui.confirm(f"Delete stack {name} and every resource in it (the table's data too)?"):
                raise NotConfirmed(f"destroy cancelled: stack {name} left as it was")
        template = self._uploaded_template_key(name) if purge_artifacts else None
        final = self._delete_and_wait(stack)
        if purge_artifacts:
            self._purge(stack, template)
        return final["StackStatus"]

    def _uploaded_template_key(self, name: str) -> str:
        """The S3 key deploy would have uploaded this stack's template under (if it was over the body limit)."""
        body = self.cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
        # botocore hands a JSON body back parsed, keys in order: deploy's compact JSON is re-made byte for byte.
        text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        return template_key(text.encode())

    def _purge(self, stack: dict[str, Any], template: str | None = None) -> None:
        bucket = parameter_of(stack, contract.ARTIFACT_BUCKET)
        if not bucket:
            return
        in_use = self._artifacts_in_use(bucket)
        if template and (removed := buckets.delete_all_versions(self.clients.s3, bucket, template)):
            # (a template names its suffix in every resource name: no other stack shares it)
            self.ui.say(f"deleted s3://{bucket}/{template} ({removed} version(s))")
        for parameter in contract.ARTIFACT_KEYS:
            key = parameter_of(stack, parameter)
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
                if parameter_of(other, contract.ARTIFACT_BUCKET) == bucket:
                    in_use.update({key: other["StackName"] for p in contract.ARTIFACT_KEYS
                                   if (key := parameter_of(other, p))})
        return in_use
