"""`webhookctl stats`: webhooks per provider from the stack's own metrics (receiver and processor EMF lines).

Parses the flags, calls webhookctl.operate.stats with the context's CloudWatch client and clock, and prints
the figures: data on stdout, what the window was on stderr.
"""

from __future__ import annotations

import click

from webhookctl.commands.options import aws_options, dump_json, format_option, suffix_option
from webhookctl.edge.context import AppContext, pass_app


@click.command()
@suffix_option()
@aws_options
@click.option("--since", default="1h", show_default=True, help="30s, 10m, 2h, 1d, or an ISO 8601 time.")
@click.option("--period", default="auto", show_default=True,
              help="One trend bar per PERIOD: auto (about 20 bars), or whole minutes (1m, 5m, 1h).")
@format_option
@pass_app
def stats(app: AppContext, suffix: str, since: str, period: str, output_format: str) -> None:
    """Webhooks per provider from the stack's metrics: accepted, rejected, processed, latency, trend."""
    from webhookctl.operate.logs import parse_since
    from webhookctl.operate.stats import stack_stats
    from webhookctl.stack.outputs import load_stack

    now = app.clock.time()
    start = parse_since(since, now) / 1000
    stack = load_stack(app.clients.cloudformation, suffix)
    report = stack_stats(app.clients.cloudwatch, stack.name, start, now, period)
    if output_format == "json":
        dump_json(report.as_dict())
    elif not report.empty:
        click.echo(report.as_text())
    if report.empty:
        window = f"the last {since}" if since[-1:] in "smhd" and since[:-1].strip().isdigit() else f"since {since}"
        click.echo(f"no webhooks in {window} ({stack.name})", err=True)
        return
    click.echo(f"{stack.name}: {report.as_dict()['start']} to {report.as_dict()['end']}, one trend bar per "
               f"{report.period_seconds} s", err=True)
