"""Operating a deployed stack: `dlq`, `alarms`, `secrets`, `logs`, `requeue`. Resources come from its outputs.

Each command parses its flags, calls one service of webhookctl.operate with the context's clients and
clock, and turns the result into output and an exit code.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click

from webhookctl.commands.options import (
    aws_options,
    confirm_or_refuse,
    dump_json,
    format_option,
    parse_pairs,
    stack_command,
    suffix_option,
    yes_option,
)
from webhookctl.edge.context import AppContext, pass_app


def load_stack(app: AppContext, suffix: str) -> Any:
    from webhookctl.stack.outputs import load_stack as load

    return load(app.clients.cloudformation, suffix)


def _keys() -> Any:
    from webhookctl.handlers.webhook_common.contract import stack

    return stack


def _exit(code: int) -> None:
    if code:
        raise click.exceptions.Exit(code)


# ---- dlq ---------------------------------------------------------------------------------------------


@click.group()
def dlq() -> None:
    """Inspect the dead-letter queue and replay it once the bug is fixed."""


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)[:6] or "0s"


@stack_command(dlq, format_option)
def stats(app: AppContext, suffix: str, output_format: str) -> None:
    """Visible, in-flight and delayed counts and the oldest message's age, for both queues."""
    from webhookctl.edge.output import table
    from webhookctl.operate.dlq import pipeline_queue_stats

    rows = pipeline_queue_stats(app.clients.sqs, app.clients.cloudwatch, load_stack(app, suffix),
                                clock=app.clock.time)
    if output_format == "json":
        dump_json([r.as_dict() for r in rows])
        return
    click.echo(table(("QUEUE", "VISIBLE", "IN FLIGHT", "DELAYED", "OLDEST", "AGE FROM"),
                     [(r.role, r.visible, r.in_flight, r.delayed, _age(r.oldest_age_seconds),
                       r.oldest_age_source) for r in rows]))


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@stack_command(dlq, format_option,
               click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True,
                            help="At most this many messages."))
def peek(app: AppContext, suffix: str, output_format: str, limit: int) -> None:
    """Show DLQ messages without consuming them (ids and routing fields only, never payloads)."""
    from webhookctl.edge.output import table
    from webhookctl.operate.dlq import peek as peek_messages

    messages = peek_messages(app.clients.sqs, load_stack(app, suffix).require(_keys().DEAD_LETTER_QUEUE_URL),
                             limit=limit)
    if output_format == "json":
        dump_json([m.as_dict() for m in messages])
        return
    if not messages:
        click.echo("the DLQ is empty", err=True)
        return
    click.echo(table(("MESSAGE ID", "FIRST SENT", "RECEIVES", "WEBHOOK ID", "PROVIDER", "EVENT TYPE"),
                     [(m.message_id, _when(m.sent_timestamp_ms), m.receive_count, m.webhook_id or "-",
                       m.provider or "-", m.event_type or "-") for m in messages]))


class _RedriveProgress:
    """Move-task progress lines, and a progress bar for a long client-side run, on stderr."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.done = 0

    def client_side(self, reason: str, estimate: int) -> None:
        click.echo(f"moving messages client-side: {reason}", err=True)
        if estimate >= 100:
            self.bar = click.progressbar(length=estimate, label="redriving",
                                         file=sys.stderr)

    def task(self, progress: Any) -> None:
        total = "?" if progress.to_move is None else progress.to_move
        click.echo(f"move task {progress.status}: {progress.moved} of {total} moved", err=True)

    def moved(self, result: Any) -> None:
        if self.bar is not None:
            handled = result.moved + result.failed + result.skipped
            self.bar.update(handled - self.done)
            self.done = handled

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()


@stack_command(dlq,
               click.option("--limit", "-n", type=click.IntRange(min=1), help="Move at most N messages."),
               click.option("--rate", type=click.IntRange(1, 500),
                            help="At most N messages per second (SQS's move task caps at 500)."),
               click.option("--provider", help="Only messages from this provider."),
               click.option("--event-type", help="Only messages of this event type."),
               click.option("--dry-run", is_flag=True, help="Count what would move; move nothing."),
               click.option("--client-side", is_flag=True,
                            help="Move messages here instead of with SQS's message-move task."),
               click.option("--workers", type=click.IntRange(1, 16), default=4, show_default=True,
                            help="Concurrent client-side movers."))
def redrive(app: AppContext, suffix: str, limit: int | None, rate: int | None, provider: str | None,
            event_type: str | None, dry_run: bool, client_side: bool, workers: int) -> None:
    """Move DLQ messages back to the processing queue (never deleting one before its copy is sent)."""
    from webhookctl.operate import redrive as service

    request = service.RedriveRequest(service.RedriveFilter(provider, event_type), limit, rate, dry_run,
                                     client_side, workers)
    progress = _RedriveProgress()
    try:
        result = service.redrive(app.clients.sqs, load_stack(app, suffix), request, clock=app.clock,
                                 observer=progress)
    finally:
        progress.close()
    for error in result.errors:
        click.echo(f"warning: {error}", err=True)
    click.echo(result.summary())
    _exit(result.exit_code)


@stack_command(dlq, yes_option)
def purge(app: AppContext, suffix: str, yes: bool) -> None:
    """Delete every message on the DLQ (asks first; --yes when there is no terminal)."""
    from webhookctl.operate.dlq import purge as purge_queue
    from webhookctl.operate.dlq import queue_counts

    url = load_stack(app, suffix).require(_keys().DEAD_LETTER_QUEUE_URL)
    visible, in_flight, delayed = queue_counts(app.clients.sqs, url)
    confirm_or_refuse(app, f"Delete all ~{visible + in_flight + delayed} messages on {url}? "
                           "They cannot be recovered", yes, f"purge {url}")
    purge_queue(app.clients.sqs, url)
    click.echo(f"purged {url} (SQS may take up to 60 seconds to finish)", err=True)


# ---- alarms ------------------------------------------------------------------------------------------


@click.group()
def alarms() -> None:
    """The stack's CloudWatch alarms."""


@stack_command(alarms, format_option)
def status(app: AppContext, suffix: str, output_format: str) -> None:
    """Every alarm's state, reason and since when; exit 1 if any is in ALARM (or missing)."""
    from webhookctl.operate.alarms import stack_alarm_report

    report = stack_alarm_report(app.clients.cloudwatch, load_stack(app, suffix))
    click.echo(report.as_json() if output_format == "json" else report.as_text())
    click.echo(report.summary(), err=True)
    _exit(report.exit_code)


# ---- secrets -----------------------------------------------------------------------------------------


@click.group()
def secrets() -> None:
    """The providers' signing secrets (values are never printed)."""


@stack_command(secrets,
               click.option("--provider", "-p", required=True, help="Provider name, as in /webhook/{provider}."),
               click.option("--from-file", type=click.File("r"), help="Read the secret from FILE (default: stdin)."),
               click.option("--replace", is_flag=True, help="Drop the provider's earlier secrets (no rotation)."),
               click.option("--option", "provider_options", multiple=True, metavar="KEY=VALUE",
                            help="A provider option, e.g. notificationUrl=https://... (Square); repeatable."),
               name="set")
def set_secret(app: AppContext, suffix: str, provider: str, from_file: Any, replace: bool,
               provider_options: tuple[str, ...]) -> None:
    """Add a signing secret (newest first; earlier ones stay valid for rotation unless --replace)."""
    from webhookctl.operate.secrets import add_secret, check_provider

    check_provider(provider)
    options = parse_pairs(provider_options, "--option")
    arn = load_stack(app, suffix).require(_keys().SIGNING_SECRET_ARN)
    stored = add_secret(app.clients.secretsmanager, arn, provider, _read_secret(app, from_file), replace=replace,
                        options=options)
    click.echo(f"stored a new secret for {provider}: {stored.secrets} valid now, newest first (version "
               f"{stored.version}); the receiver picks it up within its secrets cache time", err=True)


def _read_secret(app: AppContext, from_file: Any) -> str:
    if from_file is not None:
        return from_file.read()
    if app.is_terminal():
        return click.prompt("Signing secret", hide_input=True, err=True)
    return sys.stdin.read()


@stack_command(secrets, format_option, name="list")
def list_secrets(app: AppContext, suffix: str, output_format: str) -> None:
    """Providers and how many secrets each holds (never a value)."""
    from webhookctl.edge.output import table
    from webhookctl.operate.secrets import list_secrets as summaries_of

    arn = load_stack(app, suffix).require(_keys().SIGNING_SECRET_ARN)
    summaries = summaries_of(app.clients.secretsmanager, arn)
    if output_format == "json":
        dump_json([{"provider": s.provider, "secrets": s.secrets, "options": list(s.options)} for s in summaries])
        return
    if not summaries:
        click.echo("no signing secrets stored yet: add one with `webhookctl secrets set`", err=True)
        return
    click.echo(table(("PROVIDER", "SECRETS", "OPTIONS"),
                     [(s.provider, s.secrets, ", ".join(s.options) or "-") for s in summaries]))


@stack_command(secrets, yes_option,
               click.option("--provider", "-p", required=True, help="Provider whose secrets to remove."),
               click.option("--keep-newest", is_flag=True, help="Remove only the older secrets (finishes a rotation)."))
def remove(app: AppContext, suffix: str, yes: bool, provider: str, keep_newest: bool) -> None:
    """Remove a provider's secrets (its webhooks then fail verification), or only the older ones."""
    from webhookctl.operate.secrets import remove_secrets

    def confirm(what: str) -> None:
        confirm_or_refuse(app, f"{what[0].upper()}{what[1:]}? Webhooks signed with them will be rejected", yes,
                          what)

    arn = load_stack(app, suffix).require(_keys().SIGNING_SECRET_ARN)
    stored = remove_secrets(app.clients.secretsmanager, arn, provider, keep_newest=keep_newest, confirm=confirm)
    what = f"the older secrets of {provider}" if keep_newest else f"every secret of {provider}"
    click.echo(f"done: removed {what} (version {stored.version}; the previous version stays readable as "
               "AWSPREVIOUS)", err=True)


# ---- logs and requeue --------------------------------------------------------------------------------


@click.command()
@suffix_option()
@aws_options
@click.option("--function", "-f", "function", type=click.Choice(sorted(_keys().LOG_GROUP_OUTPUTS)),
              help="Whose logs (default with --webhook: every function's).")
@click.option("--webhook", "webhook_id", help="Only the lines about this webhook (PROVIDER#EVENT_ID), across the "
                                               "functions, in time order.")
@click.option("--since", default="10m", show_default=True, help="30s, 10m, 2h, 1d, or an ISO 8601 time.")
@click.option("--follow", is_flag=True, help="Keep printing new events (live tail; Ctrl-C stops).")
@click.option("--filter", "pattern",
              help="A CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"ERROR\" }'.")
@format_option
@pass_app
def logs(app: AppContext, suffix: str, function: str | None, webhook_id: str | None, since: str, follow: bool,
         pattern: str | None, output_format: str) -> None:
    """The functions' CloudWatch Logs events: one function's, or one webhook's across all of them."""
    import json

    from webhookctl.operate import logs as log_events

    if function is None and webhook_id is None:
        raise click.UsageError("say whose logs: --function receiver|processor|audit, or --webhook ID")
    if webhook_id and pattern:
        raise click.UsageError("--webhook is itself a filter: drop --filter, or filter one --function")
    start_ms = log_events.parse_since(since, app.clock.time())
    stack = load_stack(app, suffix)
    functions = [function] if function else [f for f in _keys().LOG_GROUP_OUTPUTS if stack.get(
        _keys().LOG_GROUP_OUTPUTS[f])]
    groups = {f: stack.require(_keys().LOG_GROUP_OUTPUTS[f]) for f in functions}
    pattern = log_events.webhook_pattern(webhook_id) if webhook_id else pattern
    if follow:
        events = log_events.follow(app.clients.logs, groups, start_ms, pattern, sleep=app.clock.sleep,
                                   note=lambda line: click.echo(line, err=True))
    else:
        events = iter(log_events.fetch_all(app.clients.logs, groups, start_ms, pattern))
    try:
        for event in events:
            click.echo(json.dumps(event.as_json(), ensure_ascii=False) if output_format == "json" else event.line())
    except KeyboardInterrupt:
        return


@click.command()
@suffix_option()
@aws_options
@click.option("--older-than", default="15m", show_default=True,
              help="Only events stored at least this long ago (30s, 10m, 2h, 1d): younger ones may still "
                   "be retried by their provider.")
@click.option("--dry-run", is_flag=True, help="List them; enqueue nothing.")
@format_option
@pass_app
def requeue(app: AppContext, suffix: str, older_than: str, dry_run: bool, output_format: str) -> None:
    """Enqueue events that were stored but never enqueued (their provider got a 500 and gave up)."""
    from webhookctl.edge.output import table
    from webhookctl.operate.logs import parse_since
    from webhookctl.operate.requeue import requeue_stuck

    cutoff = parse_since(older_than, app.clock.time(), option="--older-than")
    result = requeue_stuck(app.clients.sqs, app.clients.dynamodb, load_stack(app, suffix), cutoff,
                           dry_run=dry_run)
    rows = [(e.webhook_id, e.provider, e.event_type, e.received_at) for e in result.found]
    if output_format == "json":
        dump_json([dict(zip(("webhookId", "provider", "eventType", "receivedAt"), r, strict=True)) for r in rows])
    elif rows:
        click.echo(table(("WEBHOOK ID", "PROVIDER", "EVENT TYPE", "RECEIVED AT"), rows))
    if dry_run or not result.found:
        click.echo(f"{len(result.found)} event(s) stored more than {older_than} ago were never enqueued"
                   + ("; nothing enqueued (--dry-run)" if result.found else ""), err=True)
        return
    click.echo(f"enqueued {result.enqueued} of {len(result.found)}, failed {result.failed}", err=True)
    _exit(result.exit_code)
