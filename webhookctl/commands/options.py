"""Options and small helpers several commands share, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from webhookctl.edge.context import AppContext, pass_app
from webhookctl.edge.errors import NotConfirmed
from webhookctl.handlers.webhook_common.contract.names import SUFFIX_PATTERN, SUFFIX_RULE

if TYPE_CHECKING:
    from webhookctl.edge.config import EnvConfig
    from webhookctl.templates.settings import Settings


def _check_suffix(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not SUFFIX_PATTERN.match(value):
        raise click.BadParameter(f"{value!r} is not a valid suffix: use {SUFFIX_RULE}")
    return value


def _store(attr: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            setattr(ctx.ensure_object(AppContext), attr, value)
        return value

    return callback


def suffix_option(required: bool = True, default: str | None = None) -> Callable:
    # click treats an explicit default=None as a default, which would switch `required` off.
    defaults = {"default": default} if default is not None else {}
    return click.option("--suffix", "-s", required=required and default is None, **defaults,
                        callback=_check_suffix, envvar="WEBHOOKCTL_SUFFIX", show_envvar=True,
                        help="Environment suffix; the stack is payment-webhooks-SUFFIX.")


def aws_options(f: Callable) -> Callable:
    """--region and --profile, stored on the AppContext before clients are made."""
    f = click.option("--profile", expose_value=False, callback=_store("profile"),
                     help="AWS profile (default: boto3's standard chain).")(f)
    return click.option("--region", expose_value=False, callback=_store("region"),
                        help="AWS region (default: AWS_REGION / profile).")(f)


def stack_command(group: click.Group, *options: Callable, name: str | None = None) -> Callable:
    """group.command() with --suffix, --region and --profile (plus any extra option decorators)."""

    def decorate(f: Callable) -> Callable:
        for option in reversed(options):
            f = option(f)
        return group.command(name)(suffix_option()(aws_options(pass_app(f))))

    return decorate


def format_option(f: Callable) -> Callable:
    return click.option("--format", "output_format", type=click.Choice(["text", "json"]),
                        default="text", show_default=True, help="Output format on stdout.")(f)


yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")


def confirm_or_refuse(app: AppContext, question: str, yes: bool, what: str) -> None:
    """Ask in a terminal; without one, only --yes goes ahead."""
    if yes:
        return
    if not app.is_terminal():
        raise NotConfirmed(f"refusing to {what} without confirmation: no terminal to ask; pass --yes")
    click.confirm(question, abort=True, err=True)


def dump_json(value: Any) -> None:
    import json  # only --format json pays for it

    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def parse_pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    """KEY=VALUE pairs from repeated options, with a usage error naming the bad one."""
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=what)
        pairs[key.strip()] = value.strip()
    return pairs


def config_options(f: Callable) -> Callable:
    """--config-file and --config-env: an environment's table in webhookctl.toml."""
    from webhookctl.edge.config import CONFIG_NAME

    f = click.option("--config-env", metavar="NAME",
                     help="Environment table of the config file to use (default: the suffix's, [SUFFIX]).")(f)
    return click.option("--config-file", type=click.Path(dir_okay=False, path_type=Path),
                        help=f"Environment config (default: ./{CONFIG_NAME} if present); flags win over it.")(f)


def env_config(app: AppContext, suffix: str, config_file: Path | None, config_env: str | None) -> EnvConfig:
    """The chosen environment's table (empty without a file); its region and profile fill the flags' gaps."""
    from webhookctl.edge.config import CONFIG_NAME, EnvConfig, load_config, select_env
    from webhookctl.templates.settings import describe_settings

    path = config_file or (Path(CONFIG_NAME) if Path(CONFIG_NAME).is_file() else None)
    name = config_env or suffix
    if path is None:
        return EnvConfig(name)
    envs = load_config(path, {row[0] for row in describe_settings()})
    if name not in envs and config_file is None and config_env is None:
        click.echo(f"note: {path} has no [{name}] environment: using flags and defaults only", err=True)
        return EnvConfig(name, path)
    env = select_env(envs, name, path)
    if app.credentials is None:  # the sandbox (--local) sets its own region and no profile
        app.region = app.region or env.region
        app.profile = app.profile or env.profile
    return env


def effective_settings(env: EnvConfig, sets: tuple[str, ...]) -> dict[str, str]:
    """The file's settings with --set on top."""
    return {**env.settings, **parse_pairs(sets, "--set")}


def checked_settings(suffix: str, overrides: dict[str, str], env: EnvConfig) -> Settings:
    """Validated settings; an error names the file when some of them came from it."""
    from webhookctl.building.render import load_settings
    from webhookctl.edge.config import ConfigError
    from webhookctl.edge.errors import UsageError

    try:
        return load_settings(suffix, overrides)
    except UsageError as exc:
        if not env.settings:
            raise
        raise ConfigError(f"{exc} (settings from {env.path} [{env.name}.settings] and --set)") from exc
