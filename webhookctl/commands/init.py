"""`webhookctl init`: a commented webhookctl.toml to start from (offline)."""

from __future__ import annotations

from pathlib import Path

import click

from webhookctl.commands.options import suffix_option
from webhookctl.edge.config import CONFIG_NAME


@click.command()
@suffix_option(default="dev")
@click.option("--path", "path", type=click.Path(dir_okay=False, path_type=Path), default=Path(CONFIG_NAME),
              show_default=True, help="File to write.")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init(suffix: str, path: Path, force: bool) -> None:
    """Write a commented webhookctl.toml with every setting and its default (no AWS needed)."""
    from webhookctl.edge.config import config_template
    from webhookctl.edge.errors import UsageError
    from webhookctl.templates.settings import describe_settings

    if path.exists() and not force:
        raise UsageError(f"{path} exists: pass --force to overwrite it")
    try:
        path.write_text(config_template(suffix, describe_settings()), encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror}", param_hint="--path") from exc
    click.echo(f"wrote {path} with an environment [{suffix}]; uncomment what it needs", err=True)
