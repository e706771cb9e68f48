"""`webhookctl events list | show | replay | tail`: the stored payment events, and the bus they go to."""

from __future__ import annotations

from typing import Any

import click

from webhookctl.commands.options import confirm_or_refuse, dump_json, format_option, stack_command, yes_option
from webhookctl.edge.context import AppContext
from webhookctl.handlers.webhook_common.contract.events import CATEGORIES
from webhookctl.handlers.webhook_common.providers import PROVIDERS

SHOWN = ("webhookId", "receivedAt", "provider", "eventType", "category", "amount", "currency", "status")


def _stack(app: AppContext, suffix: str) -> Any:
    from webhookctl.stack.outputs import load_stack

    return load_stack(app.clients.cloudformation, suffix)


def _query(app: AppContext, since: str, until: str | None, provider: str | None, category: str | None,
           status: str | None, payment: str | None, limit: int) -> Any:
    from webhookctl.operate.events import EventQuery
    from webhookctl.operate.logs import parse_since

    now = app.clock.time()
    start = parse_since(since, now) / 1000
    end = parse_since(until, now, option="--until") / 1000 if until else now
    query = EventQuery(start, end, (provider,) if provider else tuple(sorted(PROVIDERS)), category, status,
                       payment, limit)
    query.check()
    return query


def _filters(f: Any) -> Any:
    for option in reversed([
        click.option("--since", default="1h", show_default=True, help="30s, 10m, 2h, 1d, or an ISO 8601 time."),
        click.option("--until", help="End of the window (default: now); same forms as --since."),
        click.option("--provider", "-p", type=click.Choice(sorted(PROVIDERS)), help="Only this provider."),
        click.option("--category", type=click.Choice(CATEGORIES), help="Only this category."),
        click.option("--status", type=click.Choice(["RECEIVED", "ENQUEUED", "PROCESSED", "IGNORED"]),
                     help="Only this status."),
        click.option("--payment", help="Only this payment's events (its id as the normaliser reads it)."),
        click.option("--limit", "-n", type=click.IntRange(1, 10000), default=100, show_default=True,
                     help="At most this many, newest first."),
    ]):
        f = option(f)
    return f


@click.group()
def events() -> None:
    """The stored payment events: list, show, replay to the bus, tail the bus."""


def _amount(event: dict[str, Any]) -> str:
    if event.get("amount") is None:
        return "-"
    return f"{event['amount'] / 100:.2f} {event.get('currency') or ''}".strip()


@stack_command(events, _filters, format_option, name="list")
def list_command(app: AppContext, suffix: str, since: str, until: str | None, provider: str | None,
                 category: str | None, status: str | None, payment: str | None, limit: int,
                 output_format: str) -> None:
    """Stored events, newest first, read through the provider/time index (never a table scan)."""
    from webhookctl.edge.output import table
    from webhookctl.handlers.webhook_common.contract import stack as outputs
    from webhookctl.operate.events import list_events

    query = _query(app, since, until, provider, category, status, payment, limit)
    listing = list_events(app.clients.dynamodb, _stack(app, suffix).require(outputs.TABLE_NAME), query)
    if output_format == "json":
        dump_json([{k: e.get(k) for k in (*SHOWN, "paymentId", "stale")} for e in listing.events])
    elif listing.events:
        click.echo(table(("WEBHOOK ID", "RECEIVED", "PROVIDER", "TYPE", "CATEGORY", "AMOUNT", "STATUS"),
                         [(e["webhookId"], e.get("receivedAt"), e.get("provider"), e.get("eventType"),
                           e.get("category") or "-", _amount(e), e.get("status")) for e in listing.events]))
    click.echo(f"{len(listing.events)} event(s), {listing.read} item(s) read", err=True)


@stack_command(events, format_option, name="show")
@click.argument("webhook_id")
def show_command(app: AppContext, suffix: str, output_format: str, webhook_id: str) -> None:
    """One event: its fields, its timeline, and its payload (card numbers and secrets masked)."""
    import json

    from webhookctl.handlers.webhook_common.contract import stack as outputs
    from webhookctl.operate.events import show_event

    shown = show_event(app.clients.dynamodb, _stack(app, suffix).require(outputs.TABLE_NAME), webhook_id)
    if output_format == "json":
        dump_json({"fields": shown.fields, "timeline": dict(shown.timeline), "payload": shown.payload})
        return
    width = max(len(k) for k in shown.fields) + 2
    for key, value in sorted(shown.fields.items()):
        click.echo(f"{key + ':':<{width}}{value}")
    click.echo("\ntimeline:")
    for what, when in shown.timeline:
        click.echo(f"  {when}  {what}")
    click.echo("\npayload (card numbers and secrets masked):")
    click.echo(json.dumps(shown.payload, indent=2, ensure_ascii=False))


@stack_command(events, _filters, yes_option,
               click.option("--dry-run", is_flag=True, help="Show what would be republished; publish nothing."),
               click.option("--rate", type=click.FloatRange(0.1, 10000), help="At most N events per second."),
               name="replay")
@click.argument("webhook_ids", nargs=-1)
def replay_command(app: AppContext, suffix: str, since: str, until: str | None, provider: str | None,
                   category: str | None, status: str | None, payment: str | None, limit: int, yes: bool,
                   dry_run: bool, rate: float | None, webhook_ids: tuple[str, ...]) -> None:
    """Republish stored events (by id, or by the filters) with replay: true and their original ids."""
    from webhookctl.edge.output import table
    from webhookctl.handlers.webhook_common.contract import stack as outputs
    from webhookctl.operate import events as service

    query = None if webhook_ids else _query(app, since, until, provider, category, status, payment, limit)
    stack = _stack(app, suffix)
    stored = service.replay_candidates(app.clients.dynamodb, stack.require(outputs.TABLE_NAME), query,
                                       list(webhook_ids))
    counts = service.estimate(stored)
    click.echo(table(("PROVIDER", "CATEGORY", "EVENTS"), [(p, c, n) for (p, c), n in counts.items()]), err=True)
    if dry_run or not stored:
        click.echo(f"{len(stored)} event(s) would be republished (nothing sent)", err=True)
        return
    confirm_or_refuse(app, f"Republish {len(stored)} event(s) to the bus with replay: true?", yes, "replay")
    result = service.replay(app.clients.client("events"), stack.require(outputs.EVENT_BUS_NAME), stored, rate=rate,
                            clock=app.clock, on_progress=lambda r: click.echo(f"replayed {r.replayed}", err=True))
    for error in result.errors:
        click.echo(f"warning: {error}", err=True)
    if result.skipped:
        click.echo(f"skipped {len(result.skipped)} not yet processed: {', '.join(result.skipped[:5])}", err=True)
    click.echo(f"replayed {result.replayed}, failed {result.failed}")
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


@stack_command(events,
               click.option("--provider", "-p", type=click.Choice(sorted(PROVIDERS)), help="Only this provider."),
               click.option("--category", type=click.Choice(CATEGORIES), help="Only this category."), name="tail")
def tail_command(app: AppContext, suffix: str, provider: str | None, category: str | None) -> None:
    """Events as they reach the bus, live (a temporary rule and queue, removed on exit, Ctrl-C included)."""
    import json

    from webhookctl.handlers.webhook_common.contract import stack as outputs
    from webhookctl.operate import events as service

    bus = _stack(app, suffix).require(outputs.EVENT_BUS_NAME)
    clients = app.clients
    pattern = service.tail_pattern((provider,) if provider else tuple(sorted(PROVIDERS)), category)
    tail = service.open_tail(clients.client("events"), clients.sqs, bus, suffix, pattern)
    click.echo(f"tailing {bus} through rule {tail.rule} (Ctrl-C stops and removes it)", err=True)
    try:
        for event in service.tail_events(clients.sqs, tail):
            click.echo(json.dumps({"detailType": event.get("detail-type"), "source": event.get("source"),
                                   "detail": event.get("detail")}, ensure_ascii=False, sort_keys=True))
    except KeyboardInterrupt:
        pass
    finally:
        left = service.close_tail(clients.client("events"), clients.sqs, bus, tail)
        click.echo(f"removed rule and queue {tail.rule}" if not left else
                   f"could not remove: {', '.join(left)}; delete them by hand", err=True)
    if left:
        raise click.exceptions.Exit(1)
