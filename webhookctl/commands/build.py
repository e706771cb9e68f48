"""`webhookctl render | package`: the template and the artifacts, offline."""

from __future__ import annotations

from pathlib import Path

import click

from webhookctl.commands.options import (
    checked_settings,
    config_options,
    dump_json,
    effective_settings,
    env_config,
    format_option,
    suffix_option,
)
from webhookctl.edge.context import AppContext, pass_app

# What AWS CLI users type after -o/--output; as a file name it is almost always a mistake.
FORMAT_NAMES = ("json", "yaml", "yml", "text", "table")


@click.command()
@suffix_option(default="dev")
@click.option("--format", "output_format", type=click.Choice(["yaml", "json"]), default="yaml",
              show_default=True, help="Template format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the template to FILE instead of stdout.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting (repeatable); `webhookctl render --list-settings` shows them.")
@click.option("--list-settings", is_flag=True, help="List every setting with its default, then exit.")
@click.option("--no-cache", is_flag=True,
              help="Build afresh, not from the bytes the same settings and code gave before (in the user cache).")
@config_options
@pass_app
def render(app: AppContext, suffix: str, output_format: str, output: Path | None, sets: tuple[str, ...],
           list_settings: bool, no_cache: bool, config_file: Path | None, config_env: str | None) -> None:
    """Print the stack's CloudFormation template (no AWS needed)."""
    from webhookctl.building.render import render_template
    from webhookctl.edge.cache import default_cache_dir

    if list_settings:
        from webhookctl.edge.output import settings_table

        click.echo(settings_table())
        return
    if output is not None and output.name.lower() in FORMAT_NAMES:
        raise click.BadParameter(f"{output.name!r} is a format name, not a file: use --format {output.name.lower()} "
                                 f"(or -o FILE.{output.name.lower()} to write a file)", param_hint="--output")
    env = env_config(app, suffix, config_file, config_env)
    settings = checked_settings(suffix, effective_settings(env, sets), env)
    # The defaults' own warning is deploy's to give (once, in its plan); render repeats only what the user caused.
    for warning in settings.own_capacity_warnings():
        click.echo(f"warning: {warning}", err=True)
    body = render_template(settings, output_format, cache_dir=None if no_cache else default_cache_dir())
    if output is None:
        click.echo(body, nl=False)
        return
    try:
        output.write_text(body)
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output}: {exc.strerror}", param_hint="--output") from exc
    click.echo(f"wrote {output} ({len(body.encode())} bytes, {output_format})", err=True)


@click.command()
@click.option("--output", "-o", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".webhookctl/artifacts"), show_default=True, help="Directory for the zips.")
@format_option
@pass_app
def package(app: AppContext, output_dir: Path, output_format: str) -> None:
    """Build handlers.zip and layer.zip (no AWS needed)."""
    from webhookctl.building.packaging import PackageConfig
    from webhookctl.edge.output import table

    artifacts = (app.packaging or PackageConfig()).build(output_dir)
    rows = [{"name": a.name, "path": str(a.path), "size": a.size, "sha256": a.sha256, "key": a.key}
            for a in artifacts]
    if output_format == "json":
        dump_json(rows)
        return
    click.echo(table(("ARTIFACT", "PATH", "BYTES", "SHA256"),
                     [(r["name"], r["path"], r["size"], r["sha256"]) for r in rows]))
