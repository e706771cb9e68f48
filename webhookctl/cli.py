"""The click edge: commands load lazily, and every error becomes a message and an exit code here."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from webhookctl import __version__
from webhookctl.edge.context import AppContext
from webhookctl.edge.errors import WebhookctlError

# name -> "module:attribute"; a command's module is imported only when it runs or --help lists it,
# and no command module imports boto3 at import time (render and --help stay fast and offline).
COMMANDS = {
    "render": "webhookctl.commands.build:render",
    "package": "webhookctl.commands.build:package",
    "deploy": "webhookctl.commands.stack:deploy",
    "diff": "webhookctl.commands.stack:diff",
    "status": "webhookctl.commands.stack:status",
    "destroy": "webhookctl.commands.stack:destroy",
    "dlq": "webhookctl.commands.operate:dlq",
    "alarms": "webhookctl.commands.operate:alarms",
    "secrets": "webhookctl.commands.operate:secrets",
    "logs": "webhookctl.commands.operate:logs",
    "requeue": "webhookctl.commands.operate:requeue",
    "events": "webhookctl.commands.events:events",
    "local": "webhookctl.commands.tryit:local",
    "send": "webhookctl.commands.tryit:send",
    "connect": "webhookctl.commands.providers:connect",
    "reconcile": "webhookctl.commands.providers:reconcile",
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

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, _, attr = self.lazy[name].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

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
    Try it:    local up, send
    """
    ctx.ensure_object(AppContext).debug = debug


def main() -> None:
    cli(prog_name="webhookctl")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
