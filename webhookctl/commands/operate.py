"""Operating a deployed stack: `dlq`, `alarms`, `secrets`, `logs`, `requeue`. Resources come from its outputs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import click

from webhookctl.commands.options import aws_options, format_option, is_terminal, parse_pairs, suffix_option, yes_option
from webhookctl.edge.context import AppContext, pass_app
from webhookctl.edge.errors import NotConfirmed


def sleep(seconds: float) -> None:
    """The one place commands wait (tests replace it)."""
    time.sleep(seconds)


def load_stack(app: AppContext, suffix: str) -> Any:
    from webhookctl.stack import outputs as stack_outputs

    return stack_outputs.load_stack(app.clients.cloudformation, suffix)


def confirm_or_refuse(question: str, yes: bool, what: str) -> None:
    """Ask in a terminal; without one, only --yes goes ahead."""
    if yes:
        return
    if not is_terminal():
        raise NotConfirmed(f"refusing to {what} without confirmation: no terminal to ask; pass --yes")
    click.confirm(question, abort=True, err=True)


def ops_command(group: click.Group, *options: Callable, name: str | None = None) -> Callable:
    """group.command() with --suffix, --region and --profile (plus any extra option decorators)."""

    def decorate(f: Callable) -> Callable:
        for option in reversed(options):
            f = option(f)
        return group.command(name)(suffix_option()(aws_options(pass_app(f))))

    return decorate


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


@ops_command(dlq, format_option)
def stats(app: AppContext, suffix: str, output_format: str) -> None:
    """Visible, in-flight and delayed counts and the oldest message's age, for both queues."""
    from webhookctl.edge.output import table
    from webhookctl.operate.dlq import queue_stats
    from webhookctl.templates import outputs as keys

    stack = load_stack(app, suffix)
    clients = app.clients
    # Peeking the processing queue would count as a receive there and push messages toward the DLQ.
    rows = [queue_stats(clients.sqs, clients.cloudwatch, role, stack.require(key), may_peek=role == "dlq")
            for role, key in (("processing", keys.PROCESSING_QUEUE_URL), ("dlq", keys.DEAD_LETTER_QUEUE_URL))]
    if output_format == "json":
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    click.echo(table(("QUEUE", "VISIBLE", "IN FLIGHT", "DELAYED", "OLDEST", "AGE FROM"),
                     [(r.role, r.visible, r.in_flight, r.delayed, _age(r.oldest_age_seconds),
                       r.oldest_age_source) for r in rows]))


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@ops_command(dlq, format_option,
             click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True,
                          help="At most this many messages."))
def peek(app: AppContext, suffix: str, output_format: str, limit: int) -> None:
    """Show DLQ messages without consuming them (ids and routing fields only, never payloads)."""
    from webhookctl.edge.output import table
    from webhookctl.operate.dlq import peek as peek_messages
    from webhookctl.templates import outputs as keys

    messages = peek_messages(app.clients.sqs, load_stack(app, suffix).require(keys.DEAD_LETTER_QUEUE_URL),
                             limit=limit)
    if output_format == "json":
        click.echo(json.dumps([m.as_dict() for m in messages], indent=2))
        return
    if not messages:
        click.echo("the DLQ is empty", err=True)
        return
    click.echo(table(("MESSAGE ID", "FIRST SENT", "RECEIVES", "WEBHOOK ID", "PROVIDER", "EVENT TYPE"),
                     [(m.message_id, _when(m.sent_timestamp_ms), m.receive_count, m.webhook_id or "-",
                       m.provider or "-", m.event_type or "-") for m in messages]))


@ops_command(dlq,
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
    from webhookctl.operate.redrive import MoverOptions, RedriveFilter
    from webhookctl.templates import outputs as keys

    stack = load_stack(app, suffix)
    message_filter = RedriveFilter(provider, event_type)
    reason = _client_side_reason(app, message_filter, limit, dry_run, client_side)
    result = None
    if reason is None:
        result, reason = _try_move_task(app, stack, rate)
    if result is None:
        click.echo(f"moving messages client-side: {reason}", err=True)
        options = MoverOptions(limit=limit, rate=rate, dry_run=dry_run, workers=workers)
        result = _client_side(app, stack.require(keys.DEAD_LETTER_QUEUE_URL),
                              stack.require(keys.PROCESSING_QUEUE_URL), message_filter, options)
    for error in result.errors:
        click.echo(f"warning: {error}", err=True)
    click.echo(result.summary())
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _client_side_reason(app: AppContext, message_filter: Any, limit: int | None, dry_run: bool,
                        client_side: bool) -> str | None:
    """Why the move task cannot do this run, or None when it can."""
    if client_side:
        return "--client-side given"
    if message_filter.active or limit or dry_run:
        return "the message-move task cannot filter, limit or dry-run"
    if app.endpoint_url:
        # Emulators answer the move-task calls with 500s, which the SDK would retry for half a minute.
        return f"custom endpoint {app.endpoint_url} (emulators lack the message-move task)"
    return None


def _try_move_task(app: AppContext, stack: Any, rate: int | None) -> tuple[Any, str | None]:
    """(result, None), or (None, why not) when the move-task API is unavailable to this caller."""
    from webhookctl.operate.redrive import MoveTaskUnsupported, move_task_redrive
    from webhookctl.templates import outputs as keys

    sqs = app.clients.sqs
    target_arn = stack.outputs.get(keys.PROCESSING_QUEUE_ARN) or sqs.get_queue_attributes(
        QueueUrl=stack.require(keys.PROCESSING_QUEUE_URL),
        AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def progress(task: Any) -> None:
        total = "?" if task.to_move is None else task.to_move
        click.echo(f"move task {task.status}: {task.moved} of {total} moved", err=True)

    try:
        return move_task_redrive(sqs, stack.require(keys.DEAD_LETTER_QUEUE_ARN), target_arn, rate=rate,
                                 sleep=sleep, on_progress=progress), None
    except MoveTaskUnsupported as exc:
        return None, f"the message-move task API is unavailable here ({exc})"


def _client_side(app: AppContext, dlq_url: str, target_url: str, message_filter: Any, options: Any) -> Any:
    from webhookctl.operate.dlq import queue_counts
    from webhookctl.operate.redrive import ClientMover

    sqs = app.clients.sqs
    visible = queue_counts(sqs, dlq_url)[0]
    options = replace(options, expected=visible)
    estimate = min(options.limit or visible, visible)
    if estimate < 100:
        return ClientMover(sqs, dlq_url, target_url, message_filter, options, sleep=sleep).run()
    with click.progressbar(length=estimate, label="redriving", file=click.get_text_stream("stderr")) as bar:
        done = [0]

        def advance(result: Any) -> None:
            handled = result.moved + result.failed + result.skipped
            bar.update(handled - done[0])
            done[0] = handled

        return ClientMover(sqs, dlq_url, target_url, message_filter, options, sleep=sleep,
                           on_progress=advance).run()


@ops_command(dlq, yes_option)
def purge(app: AppContext, suffix: str, yes: bool) -> None:
    """Delete every message on the DLQ (asks first; --yes when there is no terminal)."""
    from webhookctl.operate.dlq import purge as purge_queue
    from webhookctl.operate.dlq import queue_counts
    from webhookctl.templates import outputs as keys

    url = load_stack(app, suffix).require(keys.DEAD_LETTER_QUEUE_URL)
    visible, in_flight, delayed = queue_counts(app.clients.sqs, url)
    confirm_or_refuse(f"Delete all ~{visible + in_flight + delayed} messages on {url}? "
                      "They cannot be recovered", yes, f"purge {url}")
    purge_queue(app.clients.sqs, url)
    click.echo(f"purged {url} (SQS may take up to 60 seconds to finish)", err=True)


# ---- alarms ------------------------------------------------------------------------------------------


@click.group()
def alarms() -> None:
    """The stack's CloudWatch alarms."""


@ops_command(alarms, format_option)
def status(app: AppContext, suffix: str, output_format: str) -> None:
    """Every alarm's state, reason and since when; exit 1 if any is in ALARM (or missing)."""
    from webhookctl.edge.errors import StackError
    from webhookctl.operate.alarms import alarm_names, alarm_report

    stack = load_stack(app, suffix)
    names = alarm_names(stack.outputs)
    if not names:
        raise StackError(f"stack {stack.name} has no alarm outputs: redeploy it with "
                         f"`webhookctl deploy --suffix {suffix}`")
    report = alarm_report(app.clients.cloudwatch, names)
    click.echo(report.as_json() if output_format == "json" else report.as_text())
    click.echo(report.summary(), err=True)
    if report.exit_code:
        raise click.exceptions.Exit(report.exit_code)


# ---- secrets -----------------------------------------------------------------------------------------


@click.group()
def secrets() -> None:
    """The providers' signing secrets (values are never printed)."""


@ops_command(secrets,
             click.option("--provider", "-p", required=True,
                          help="Provider name, as in /webhook/{provider}."),
             click.option("--from-file", type=click.File("r"),
                          help="Read the secret from FILE (default: stdin)."),
             click.option("--replace", is_flag=True,
                          help="Drop the provider's earlier secrets (no rotation)."),
             click.option("--option", "provider_options", multiple=True, metavar="KEY=VALUE",
                          help="A provider option, e.g. notificationUrl=https://... (Square); repeatable."),
             name="set")
def set_secret(app: AppContext, suffix: str, provider: str, from_file: Any, replace: bool,
               provider_options: tuple[str, ...]) -> None:
    """Add a signing secret (newest first; earlier ones stay valid for rotation unless --replace)."""
    from webhookctl.operate import secrets as docs
    from webhookctl.templates import outputs as keys

    docs.check_provider(provider, docs.known_providers())
    options = parse_pairs(provider_options, "--option")
    value = docs.clean_secret(_read_secret(from_file), provider)
    arn = load_stack(app, suffix).require(keys.SIGNING_SECRET_ARN)
    sm = app.clients.secretsmanager
    document = docs.with_secret(docs.load_document(sm, arn), provider, value, replace=replace,
                                options=options)
    version = docs.save_document(sm, arn, document)
    count = len(docs.provider_entry(document, provider)[0])
    click.echo(f"stored a new secret for {provider}: {count} valid now, newest first (version {version}); "
               "the receiver picks it up within its secrets cache time", err=True)



def _read_secret(from_file: Any) -> str:
    if from_file is not None:
        return from_file.read()
    if is_terminal():
        return click.prompt("Signing secret", hide_input=True, err=True)
    return click.get_text_stream("stdin").read()


@ops_command(secrets, format_option, name="list")
def list_secrets(app: AppContext, suffix: str, output_format: str) -> None:
    """Providers and how many secrets each holds (never a value)."""
    from webhookctl.edge.output import table
    from webhookctl.operate import secrets as docs
    from webhookctl.templates import outputs as keys

    arn = load_stack(app, suffix).require(keys.SIGNING_SECRET_ARN)
    summaries = docs.summarize(docs.load_document(app.clients.secretsmanager, arn))
    if output_format == "json":
        click.echo(json.dumps([{"provider": s.provider, "secrets": s.secrets, "options": list(s.options)}
                               for s in summaries], indent=2))
        return
    if not summaries:
        click.echo("no signing secrets stored yet: add one with `webhookctl secrets set`", err=True)
        return
    click.echo(table(("PROVIDER", "SECRETS", "OPTIONS"),
                     [(s.provider, s.secrets, ", ".join(s.options) or "-") for s in summaries]))



@ops_command(secrets, yes_option,
             click.option("--provider", "-p", required=True, help="Provider whose secrets to remove."),
             click.option("--keep-newest", is_flag=True,
                          help="Remove only the older secrets (finishes a rotation)."))
def remove(app: AppContext, suffix: str, yes: bool, provider: str, keep_newest: bool) -> None:
    """Remove a provider's secrets (its webhooks then fail verification), or only the older ones."""
    from webhookctl.operate import secrets as docs
    from webhookctl.templates import outputs as keys

    arn = load_stack(app, suffix).require(keys.SIGNING_SECRET_ARN)
    sm = app.clients.secretsmanager
    document = docs.without(docs.load_document(sm, arn), provider, keep_newest=keep_newest)
    what = f"remove the older secrets of {provider}" if keep_newest else f"remove every secret of {provider}"
    confirm_or_refuse(f"{what[0].upper()}{what[1:]}? Webhooks signed with them will be rejected", yes, what)
    version = docs.save_document(sm, arn, document)
    click.echo(f"done: {what} (version {version}; the previous version stays readable as AWSPREVIOUS)",
               err=True)


# ---- logs --------------------------------------------------------------------------------------------


@click.command()
@suffix_option()
@aws_options
@click.option("--function", "-f", "function", type=click.Choice(["receiver", "processor", "audit"]),
              required=True, help="Whose logs.")
@click.option("--since", default="10m", show_default=True, help="30s, 10m, 2h, 1d, or an ISO 8601 time.")
@click.option("--follow", is_flag=True, help="Keep polling for new events (Ctrl-C stops).")
@click.option("--filter", "pattern",
              help="A CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"ERROR\" }'.")
@pass_app
def logs(app: AppContext, suffix: str, function: str, since: str, follow: bool, pattern: str | None) -> None:
    """A function's CloudWatch Logs events."""
    from webhookctl.operate import logs as log_events
    from webhookctl.templates.outputs import LOG_GROUP_OUTPUTS

    start_ms = log_events.parse_since(since, time.time())
    group = load_stack(app, suffix).require(LOG_GROUP_OUTPUTS[function])
    if follow:
        events = log_events.follow(app.clients.logs, group, start_ms, pattern, sleep=sleep)
    else:
        events = log_events.fetch(app.clients.logs, group, start_ms, pattern)
    try:
        for event in events:
            click.echo(event.line())
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
    from webhookctl.edge.output import table as table_text
    from webhookctl.operate import requeue as service
    from webhookctl.operate.logs import parse_since
    from webhookctl.templates import outputs as keys

    stack = load_stack(app, suffix)
    table, queue_url = stack.require(keys.TABLE_NAME), stack.require(keys.PROCESSING_QUEUE_URL)
    cutoff = parse_since(older_than, time.time(), option="--older-than")
    events = list(service.stuck_events(app.clients.dynamodb, table, cutoff))
    rows = [(e.webhook_id, e.provider, e.event_type, e.received_at) for e in events]
    if output_format == "json":
        click.echo(json.dumps([dict(zip(("webhookId", "provider", "eventType", "receivedAt"), r, strict=True))
                               for r in rows], indent=2))
    elif rows:
        click.echo(table_text(("WEBHOOK ID", "PROVIDER", "EVENT TYPE", "RECEIVED AT"), rows))
    if dry_run or not events:
        click.echo(f"{len(events)} event(s) stored more than {older_than} ago were never enqueued"
                   + ("; nothing enqueued (--dry-run)" if events else ""), err=True)
        return
    result = service.requeue(app.clients.sqs, app.clients.dynamodb, table, queue_url, events)
    click.echo(f"enqueued {result.enqueued} of {len(events)}, failed {result.failed}", err=True)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)
