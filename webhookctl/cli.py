"""The click edge: commands load lazily, and every error becomes a message and an exit code here."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from webhookctl import __version__
from webhookctl.edge.context import AppContext
from webhookctl.edge.errors import WebhookctlError

# name -> ("module:attribute", its one-line help). A command's module is imported only when it runs or its own
# --help is asked for: `webhookctl --help` lists these lines (tests/test_cli.py holds each to the command's own
# short help), and no command module imports boto3 at import time (render and --help stay fast and offline).
COMMANDS = {
    "render": ("webhookctl.commands.build:render", "Print the stack's CloudFormation template (no AWS needed)."),
    "package": ("webhookctl.commands.build:package", "Build handlers.zip and layer.zip (no AWS needed)."),
    "init": ("webhookctl.commands.init:init",
             "Write a commented webhookctl.toml with every setting and its default (no AWS needed)."),
    "bootstrap": ("webhookctl.commands.bootstrap:bootstrap",
                  "Prepare an account and region once: API Gateway's CloudWatch Logs role and the artifact bucket."),
    "deploy": ("webhookctl.commands.stack:deploy",
               "Package, upload what changed, and create or update the stack through a change set."),
    "diff": ("webhookctl.commands.stack:diff", "Show the change set deploy would execute (created, printed, deleted)."),
    "status": ("webhookctl.commands.stack:status", "Stack status, last update and outputs."),
    "destroy": ("webhookctl.commands.stack:destroy", "Delete the stack and everything in it, streaming events."),
    "dlq": ("webhookctl.commands.operate:dlq", "Inspect the dead-letter queue and replay it once the bug is fixed."),
    "alarms": ("webhookctl.commands.operate:alarms", "The stack's CloudWatch alarms."),
    "secrets": ("webhookctl.commands.operate:secrets", "The providers' signing secrets (values are never printed)."),
    "stats": ("webhookctl.commands.stats:stats",
              "Webhooks per provider from the stack's metrics: accepted, rejected, processed, latency, trend."),
    "logs": ("webhookctl.commands.operate:logs",
             "The functions' CloudWatch Logs events: one function's, or one webhook's across all of them."),
    "requeue": ("webhookctl.commands.operate:requeue",
                "Enqueue events that were stored but never enqueued (their provider got a 500 and gave up)."),
    "events": ("webhookctl.commands.events:events",
               "The stored payment events: list, show, replay to the bus, tail the bus."),
    "connect": ("webhookctl.commands.providers:connect",
                "Register the stack's endpoint with the provider and store the secret it signs with."),
    "reconcile": ("webhookctl.commands.providers:reconcile",
                  "Compare the provider's record of events with the store; --backfill what it never delivered."),
    "local": ("webhookctl.commands.tryit:local", "Run the whole pipeline on this machine, no AWS account needed."),
    "send": ("webhookctl.commands.tryit:send",
             "Sign a sample event as PROVIDER does and POST it; exit 1 on an unexpected answer."),
}


def translate(exc: BaseException) -> click.ClickException | None:
    """The user-facing form of a known failure, or None to let it propagate with its traceback."""
    if isinstance(exc, WebhookctlError):
        error = click.UsageError(str(exc)) if exc.exit_code == 2 else click.ClickException(str(exc))
        error.exit_code = exc.exit_code
        return error
    if type(exc).__module__.startswith("botocore"):
        from webhookctl.edge.awserrors import describe_aws_error

        message, code = describe_aws_error(exc)
        error = click.UsageError(message) if code == 2 else click.ClickException(message)
        error.exit_code = code
        return error
    return None


class LazyGroup(click.Group):
    """Resolves commands from COMMANDS on demand and translates errors at one edge."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, _, attr = self.lazy[name][0].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from COMMANDS' lines: listing commands imports none of them."""
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx) if name in self.lazy]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            # A command with something left behind raises Interrupted saying what; anything else left nothing.
            click.echo("interrupted: nothing was left half-done", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            app = ctx.find_object(AppContext)
            error = translate(exc)
            if error is None or (app is not None and app.debug):
                raise
            raise error from exc


def _use_local(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        from webhookctl.tryit.state import sandbox_context

        try:
            sandbox_context(ctx.ensure_object(AppContext))
        except WebhookctlError as exc:
            raise click.UsageError(str(exc)) from exc
    return value


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from webhookctl.handlers.webhook_common.contract import VERSION
    from webhookctl.handlers.webhook_common.contract.events import VERSION as EVENT_VERSION

    click.echo(f"webhookctl {__version__} (stack contract {VERSION}, payment event v{EVENT_VERSION})")
    ctx.exit()


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version and the contract versions it deploys, then exit.")
@click.option("--local", is_flag=True, expose_value=False, callback=_use_local,
              help="Point every AWS call at the sandbox started by `webhookctl local up`.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Build, ship and operate a serverless payment-webhook pipeline on AWS.

    \b
    Offline:   render, package
    Stack:     deploy, diff, status, destroy
    Operate:   dlq, alarms, secrets, logs, requeue, events
    Providers: connect, reconcile
    Try it:    local up, send
    """
    ctx.ensure_object(AppContext).debug = debug


def main() -> None:
    cli(prog_name="webhookctl")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
