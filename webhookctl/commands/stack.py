"""`webhookctl deploy | diff | status | destroy`: the stack lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from webhookctl.commands.options import (
    aws_options,
    checked_settings,
    config_options,
    dump_json,
    effective_settings,
    env_config,
    format_option,
    parse_pairs,
    suffix_option,
    yes_option,
)
from webhookctl.edge.context import AppContext, pass_app

if TYPE_CHECKING:
    from webhookctl.edge.config import EnvConfig
    from webhookctl.stack.deploy import Deployer, DeployOptions


class ClickUi:
    """Progress on stderr; confirmation only where a person can answer."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive

    def say(self, text: str) -> None:
        click.echo(text, err=True)

    def confirm(self, question: str) -> bool:
        return click.confirm(question, default=False, err=True)


def deployer(app: AppContext) -> Deployer:
    from webhookctl.building.packaging import PackageConfig
    from webhookctl.stack.deploy import Deployer
    from webhookctl.stack.stack_events import Timing

    return Deployer(app.clients, ClickUi(app.is_terminal()), Timing(clock=app.clock),
                    app.packaging or PackageConfig())


def _echo_outputs(outputs: dict[str, str]) -> None:
    from webhookctl.edge.output import table

    if outputs:
        click.echo(table(("OUTPUT", "VALUE"), sorted(outputs.items())))


def _deploy_inputs(f: Any) -> Any:
    f = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                     help="Override a setting (repeatable); see `webhookctl render --list-settings`.")(f)
    f = click.option("--bucket", help="Artifact bucket (default: webhookctl-artifacts-ACCOUNT-REGION, "
                                      "created on first use).")(f)
    return config_options(aws_options(suffix_option()(f)))


def _options(app: AppContext, suffix: str, sets: tuple[str, ...], bucket: str | None,
             config: tuple[Path | None, str | None], **extra: Any) -> tuple[DeployOptions, EnvConfig]:
    """DeployOptions from the flags on top of the environment's table in the config file."""
    from webhookctl.stack.deploy import DeployOptions

    env = env_config(app, suffix, *config)
    overrides = effective_settings(env, sets)
    checked_settings(suffix, overrides, env)  # a bad value in the file is named as the file's
    return DeployOptions(suffix=suffix, settings=overrides, bucket=bucket or env.bucket, **extra), env


@click.command()
@_deploy_inputs
@click.option("--tags", "tag_pairs", multiple=True, metavar="KEY=VALUE", help="Stack tag (repeatable).")
@yes_option
@click.option("--no-execute", is_flag=True, help="Create the change set and stop, for review.")
@click.option("--fail-on-empty", is_flag=True, help="Exit 1 when there is nothing to deploy.")
@click.option("--protect", is_flag=True, help="Turn on termination protection after the deploy.")
@format_option
@pass_app
def deploy(app: AppContext, suffix: str, sets: tuple[str, ...], bucket: str | None,
           config_file: Path | None, config_env: str | None, tag_pairs: tuple[str, ...], yes: bool,
           no_execute: bool, fail_on_empty: bool, protect: bool, output_format: str) -> None:
    """Package, upload what changed, and create or update the stack through a change set."""
    from dataclasses import replace

    from webhookctl.stack.changeset import changes_json

    options, env = _options(app, suffix, sets, bucket, (config_file, config_env), yes=yes,
                            no_execute=no_execute, fail_on_empty=fail_on_empty)
    tags = {**_checked_tags(env.tags, f"{env.path} [{env.name}.tags]"), **_stack_tags(tag_pairs)}
    options = replace(options, tags=tags, protect=protect or bool(env.protect))
    result = deployer(app).deploy(options)
    if output_format == "json":
        change_set = result.change_set
        dump_json({"stack": result.stack_name, "status": result.status, "bucket": result.bucket,
                   "uploads": result.uploads, "outputs": result.outputs,
                   "changeSet": None if change_set is None or change_set.empty else
                   {"name": change_set.name, "type": change_set.change_set_type,
                    "changes": changes_json(change_set.changes)}})
        return
    _echo_outputs(result.outputs)


@click.command()
@_deploy_inputs
@click.option("--fail", is_flag=True, help="Exit 1 when there are changes.")
@format_option
@pass_app
def diff(app: AppContext, suffix: str, sets: tuple[str, ...], bucket: str | None, config_file: Path | None,
         config_env: str | None, fail: bool, output_format: str) -> None:
    """Show the change set deploy would execute (created, printed, deleted)."""
    from webhookctl.edge.errors import WebhookctlError
    from webhookctl.stack.changeset import changes_json, changes_table

    options, _ = _options(app, suffix, sets, bucket, (config_file, config_env))
    plan, change_set = deployer(app).diff(options)
    changes = change_set.changes if change_set else ()
    pending = plan.recreate is not None or bool(changes)
    if output_format == "json":
        dump_json({"stack": options.stack_name, "plan": plan.describe(), "changes": changes_json(changes),
                   "type": plan.change_set.change_set_type})
    elif plan.recreate:
        click.echo("\n".join(plan.describe()))
    elif not changes:
        click.echo(f"stack {options.stack_name} is up to date", err=True)
    else:
        click.echo(changes_table(changes))
    if fail and pending:
        raise WebhookctlError(f"{len(changes) or 'every'} change(s) pending for {options.stack_name} (--fail)")


@click.command()
@suffix_option()
@aws_options
@format_option
@pass_app
def status(app: AppContext, suffix: str, output_format: str) -> None:
    """Stack status, last update and outputs."""
    from webhookctl.handlers.webhook_common.contract.names import stack_name
    from webhookctl.stack.outputs import REVIEW, REVIEW_REASON, existing_description, outputs_of

    name = stack_name(suffix)
    stack = existing_description(app.clients.cloudformation, name)
    updated = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    outputs = _local_urls(app, outputs_of(stack))
    reason = REVIEW_REASON if stack["StackStatus"] == REVIEW else stack.get("StackStatusReason")
    summary = {"stack": name, "status": stack["StackStatus"], "statusReason": reason,
               "lastUpdated": updated.isoformat() if updated else None,
               "terminationProtection": bool(stack.get("EnableTerminationProtection")), "outputs": outputs}
    if output_format == "json":
        dump_json(summary)
        return
    rows = [("stack", name), ("status", stack["StackStatus"]), ("last update", summary["lastUpdated"]),
            ("termination protection", "on" if summary["terminationProtection"] else "off")]
    if summary["statusReason"]:
        rows.insert(2, ("reason", summary["statusReason"]))
    width = max(len(key) for key, _ in rows) + 2
    for key, value in rows:
        click.echo(f"{key + ':':<{width}}{value}")
    click.echo()
    _echo_outputs(outputs)


@click.command()
@suffix_option()
@aws_options
@yes_option
@click.option("--purge-artifacts", is_flag=True,
              help="Also delete this stack's handler and layer zips (all versions) from the bucket.")
@pass_app
def destroy(app: AppContext, suffix: str, yes: bool, purge_artifacts: bool) -> None:
    """Delete the stack and everything in it, streaming events."""
    from webhookctl.handlers.webhook_common.contract.names import stack_name

    final = deployer(app).destroy(suffix, yes, purge_artifacts)
    if final != "ABSENT":
        click.echo(f"stack {stack_name(suffix)} deleted", err=True)


def _local_urls(app: AppContext, outputs: dict[str, str]) -> dict[str, str]:
    """Against the sandbox, the webhook URL providers are given is the sandbox's own gateway."""
    from webhookctl.handlers.webhook_common.contract.stack import WEBHOOK_URL
    from webhookctl.tryit.state import running_sandbox

    sandbox = running_sandbox(app.endpoint_url)
    if sandbox is None or WEBHOOK_URL.key not in outputs:
        return outputs
    return {**outputs, WEBHOOK_URL.key: sandbox.webhook_url}


def _stack_tags(pairs: tuple[str, ...]) -> dict[str, str]:
    """--tags, refused locally where CloudFormation would refuse them after packaging and uploading."""

    return _checked_tags(parse_pairs(pairs, "--tags"), "--tags")


def _checked_tags(tags: dict[str, str], hint: str) -> dict[str, str]:
    """Tags CloudFormation would accept, or a usage error naming where the bad one came from."""
    from webhookctl.handlers.webhook_common.contract.names import TAG_PREFIX

    for key, value in tags.items():
        if key.lower().startswith("aws:") or key.startswith(TAG_PREFIX):
            raise click.BadParameter(f"tag {key!r} uses a reserved prefix (aws: belongs to AWS, {TAG_PREFIX} to "
                                     "this tool)", param_hint=hint)
        if len(key) > 128 or len(value) > 256:
            raise click.BadParameter(f"tag {key!r}: keys are at most 128 characters, values 256",
                                     param_hint=hint)
    return tags
