"""`webhookctl connect` and `webhookctl reconcile`: the providers' own APIs driven for the stack."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import click

from webhookctl.commands.options import (
    aws_options,
    confirm_or_refuse,
    dump_json,
    format_option,
    suffix_option,
    yes_option,
)
from webhookctl.edge.context import AppContext, pass_app
from webhookctl.operate.provider_apis import supported

HERE_ONLY_WHY = ("here only: stored events the provider's API does not list for this window (sent by "
                 "`webhookctl send` or a test, registered through another endpoint or account, or created "
                 "just outside the window and delivered inside it); not an error")


def _command(*options: Any, name: str) -> Any:
    """A top-level command with --suffix, --region and --profile (stack_command's, without a group)."""

    def decorate(f: Any) -> Any:
        for option in reversed(options):
            f = option(f)
        return click.command(name)(suffix_option()(aws_options(pass_app(f))))

    return decorate

provider_option = click.option("--provider", "-p", type=click.Choice(supported()), help="The provider.")
target_option = click.option("--target", envvar="WEBHOOKCTL_GITHUB_TARGET", show_envvar=True,
                             help="github: OWNER/REPO (a repository hook) or ORG (an organisation hook).")
secret_option = click.option("--credential-secret", "credential_secret", envvar="WEBHOOKCTL_CREDENTIAL_SECRET",
                             show_envvar=True, metavar="NAME",
                             help="Read the provider API credential from this Secrets Manager secret (the "
                                  "credential alone, or JSON with a \"token\" or e.g. \"STRIPE_API_KEY\" key) "
                                  "instead of the environment variable.")


def _stack(app: AppContext, suffix: str) -> Any:
    from webhookctl.stack.outputs import load_stack

    return load_stack(app.clients.cloudformation, suffix)


def _secret(app: AppContext, name: str | None) -> Any:
    """The credential secret, read once per command (None: the environment variable is used)."""
    from webhookctl.operate.provider_apis import read_credential_secret

    return read_credential_secret(app.clients.secretsmanager, name) if name else None


def _api(app: AppContext, provider: str, target: str | None, secret: Any = None) -> Any:
    from webhookctl.operate.provider_apis import open_api

    return open_api(provider, os.environ, app.clock.sleep, target, secret)


def _url(stack: Any, provider: str) -> str:
    from webhookctl.handlers.webhook_common.contract import stack as outputs

    return stack.require(outputs.WEBHOOK_URL) + provider


@_command(provider_option, target_option, secret_option,
               click.option("--events", "event_types", help="Comma-separated event types (default: the types "
                                                            "the normaliser maps)."),
               click.option("--rotate", is_flag=True, help="Give the endpoint a new secret; the old one stays "
                                                           "valid until `secrets remove --keep-newest`."),
               click.option("--dry-run", is_flag=True, help="Print what would be created or changed."),
               click.option("--list", "list_only", is_flag=True, help="Whether the registrations match the stack."),
               click.option("--no-test-event", "no_test_event", is_flag=True,
                            help="Skip the provider's test event (else sent, unless --dry-run, and awaited "
                                 "in the store)."),
               click.option("--test-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True,
                            metavar="SECONDS", help="How long to wait for the test event to be processed."),
               yes_option, format_option, name="connect")
def connect(app: AppContext, suffix: str, provider: str | None, target: str | None, credential_secret: str | None,
            event_types: str | None, rotate: bool, dry_run: bool, list_only: bool, no_test_event: bool,
            test_timeout: float, yes: bool, output_format: str) -> None:
    """Register the stack's endpoint with the provider and store the secret it signs with.

    Then (unless --dry-run or --no-test-event) ask the provider for its own test event, where its API has one,
    and wait for it in the store."""
    secret = _secret(app, credential_secret)
    if list_only:
        return _list(app, suffix, provider, target, secret, output_format)
    if provider is None:
        raise click.UsageError("--provider is required (unless --list)")
    from webhookctl.handlers.webhook_common.contract import stack as outputs
    from webhookctl.operate import connect as service

    api, stack = _api(app, provider, target, secret), _stack(app, suffix)
    events = tuple(e.strip() for e in event_types.split(",") if e.strip()) if event_types else api.default_events
    url = _url(stack, provider)
    store = service.secret_store(app.clients.secretsmanager, stack.require(outputs.SIGNING_SECRET_ARN), provider,
                                 api.secret_options(url))

    def confirm(plan: Any) -> None:
        click.echo(_describe(plan), err=True)
        confirm_or_refuse(app, f"{plan.action} the {provider} endpoint?", yes, f"{plan.action} the endpoint")

    done = service.connect(api, url, events, store, rotate=rotate, dry_run=dry_run,
                           confirm=confirm)
    tested = None
    if not (dry_run or no_test_event) and done.endpoint is not None:  # changed, or unchanged: prove the path
        find = service.store_finder(app.clients.dynamodb, stack.require(outputs.TABLE_NAME), provider, app.clock)
        tested = service.await_test(api, done.endpoint, done.plan.events, find, app.clock, timeout=test_timeout,
                                    on_progress=lambda line: click.echo(line, err=True))
    _show_connected(done, tested, output_format)
    if tested is not None and not tested.ok:
        click.echo(_test_failure(done, tested, suffix), err=True)
        raise click.exceptions.Exit(1)


def _describe(plan: Any) -> str:
    where = f" ({plan.endpoint.id})" if plan.endpoint else ""
    lines = [f"{plan.provider}: {plan.action} endpoint {plan.url}{where}"]
    lines += [f"  + {e}" for e in (plan.events if plan.action == "create" else plan.added)]
    lines += [f"  - {e}" for e in plan.removed]
    return "\n".join(lines)


def _show_connected(done: Any, tested: Any, output_format: str) -> None:
    endpoint = done.endpoint
    if output_format == "json":
        dump_json({"provider": done.plan.provider, "action": done.plan.action, "applied": done.applied,
                   "url": done.plan.url, "endpointId": endpoint.id if endpoint else None,
                   "events": list(done.plan.events), "added": list(done.plan.added),
                   "removed": list(done.plan.removed), "secretsStored": done.secrets,
                   "testEvent": _test_json(tested)})
        return
    if not done.applied:
        click.echo(_describe(done.plan))
        click.echo("dry run: nothing changed" if done.plan.action != "unchanged" else "nothing to change", err=True)
    else:
        click.echo(f"{done.plan.provider}: {done.plan.action} done, endpoint {endpoint.id} -> {done.plan.url}")
    if done.secrets is not None:
        click.echo(f"stored the new signing secret: {done.secrets} secret(s) valid; after the rotation, "
                   f"`webhookctl secrets remove --provider {done.plan.provider} --keep-newest`", err=True)
    if tested is not None and tested.sent is None:
        click.echo(f"{done.plan.provider}: no test event sent. {tested.hint}", err=True)
    elif tested is not None and tested.ok:
        click.echo(f"{done.plan.provider}: test event {tested.sent.event_type} {tested.status} "
                   f"after {tested.waited:g} s")


def _test_json(tested: Any) -> dict[str, Any] | None:
    if tested is None:
        return None
    sent = tested.sent
    if sent is None:
        return {"sent": False, "ok": True, "hint": tested.hint}
    return {"sent": True, "ok": tested.ok, "eventType": sent.event_type, "webhookId": sent.webhook_id,
            "expected": sent.expect, "status": tested.status, "endpointAnswered": sent.answered,
            "waitedSeconds": tested.waited}


def _test_failure(done: Any, tested: Any, suffix: str) -> str:
    """Why the test event is not where it should be, and where to look; what was done stays done."""
    provider, sent = done.plan.provider, tested.sent
    if tested.refused and not sent.answered:
        why = f"{provider} could not reach the endpoint with its test event (no HTTP answer)"
    elif tested.refused:
        why = f"the endpoint answered {provider}'s test event with HTTP {sent.answered}"
    elif tested.status is None:
        why = f"{provider}'s test event {sent.event_type} was not stored within {tested.waited:g} s"
    else:
        why = f"{provider}'s test event {sent.event_type} is {tested.status}, not {sent.expect}"
    return (f"{why}. The endpoint stays registered and its secret stored: see `webhookctl logs --suffix {suffix} "
            f"--function receiver` (and `--function processor`), then `webhookctl connect --suffix {suffix} "
            f"--provider {provider} --list`")


def _list(app: AppContext, suffix: str, provider: str | None, target: str | None, secret: Any,
          output_format: str) -> None:
    from webhookctl.edge.errors import UsageError
    from webhookctl.edge.output import table
    from webhookctl.operate import connect as service

    stack, rows = _stack(app, suffix), []
    if secret is not None and provider is None:  # one secret for every provider: each by its own key
        secret = dataclasses.replace(secret, shared=True)
    for name in [provider] if provider else supported():
        try:
            api = _api(app, name, target, secret)
        except UsageError as skipped:
            if provider:
                raise
            rows.append({"provider": name, "registered": None, "matches": False, "note": str(skipped)})
            continue
        listed = service.listing(api, _url(stack, name), api.default_events)
        rows.append({"provider": name, "registered": listed.endpoint.id if listed.endpoint else None,
                     "matches": listed.matches, "url": listed.url,
                     "events": list(listed.endpoint.events) if listed.endpoint else [],
                     "expected": list(listed.expected), "note": "" if listed.matches else _mismatch(listed)})
    if output_format == "json":
        return dump_json(rows)
    click.echo(table(("PROVIDER", "ENDPOINT", "MATCHES", "NOTE"),
                     [(r["provider"], r["registered"] or "-", "yes" if r["matches"] else "no", r["note"])
                      for r in rows]))


def _mismatch(listed: Any) -> str:
    if listed.endpoint is None:
        return f"no endpoint for {listed.url}: run `webhookctl connect --provider {listed.provider}`"
    return "event types differ: run `webhookctl connect` to update them"


@_command(provider_option, target_option, secret_option,
               click.option("--since", default="24h", show_default=True, help="30s, 10m, 2h, 1d, or an ISO time."),
               click.option("--until", help="End of the window (default: now)."),
               click.option("--backfill", is_flag=True, help="Store and process the events missing here (github: "
                                                             "ask GitHub to redeliver them)."),
               format_option, name="reconcile")
def reconcile(app: AppContext, suffix: str, provider: str | None, target: str | None,
              credential_secret: str | None, since: str, until: str | None, backfill: bool,
              output_format: str) -> None:
    """Compare the provider's record of events with the store; --backfill what it never delivered."""
    if provider is None:
        raise click.UsageError("--provider is required")
    from webhookctl.handlers.webhook_common.contract import stack as outputs
    from webhookctl.operate import reconcile as service
    from webhookctl.operate.logs import parse_since

    now = app.clock.time()
    start = parse_since(since, now) / 1000
    end = parse_since(until, now, option="--until") / 1000 if until else now
    api = _api(app, provider, target, _secret(app, credential_secret))
    service.check_window(api, start, end, now)
    stack = _stack(app, suffix)
    api.use_endpoint(_url(stack, provider))
    table_name = stack.require(outputs.TABLE_NAME)
    comparison = service.compare(api, app.clients.dynamodb, table_name, start, end, now)
    filled = None
    if backfill and comparison.missing:
        retention = None if api.redelivers else service.receiver_retention(
            app.clients.client("lambda"), stack.require(outputs.RECEIVER_FUNCTION))
        target_ = service.Target(app.clients.dynamodb, app.clients.sqs, table_name,
                                 stack.require(outputs.PROCESSING_QUEUE_URL), retention)
        filled = service.backfill(api, comparison.missing, target_, app.clock,
                                  on_progress=lambda line: click.echo(f"backfill {line}", err=True))
    elif backfill:
        filled = service.Backfilled(by_redelivery=api.redelivers)
    _show_comparison(comparison, filled, backfill, output_format)
    if filled is not None and filled.exit_code:
        raise click.exceptions.Exit(filled.exit_code)


def _show_comparison(comparison: Any, filled: Any, backfill: bool, output_format: str) -> None:
    from webhookctl.edge.output import table

    counts = comparison.counts()
    if output_format == "json":
        return dump_json(_comparison_json(comparison, filled, backfill))
    click.echo(table(("EVENT TYPE", "IN BOTH", "MISSING HERE", "HERE ONLY"),
                     [(kind, c["inBoth"], c["missingHere"], c["hereOnly"]) for kind, c in counts.items()]))
    for event in comparison.missing:
        click.echo(f"missing here: {event.event_id} {event.event_type}")
    if comparison.here_only:
        click.echo(HERE_ONLY_WHY, err=True)
    click.echo(_summary(comparison, filled, backfill), err=True)


def _comparison_json(comparison: Any, filled: Any, backfill: bool) -> dict[str, Any]:
    from webhookctl.handlers.webhook_common import contract

    document: dict[str, Any] = {
        "provider": comparison.provider, "since": contract.item_time(comparison.since),
        "until": contract.item_time(comparison.until), "counts": comparison.counts(),
        "totals": {"inBoth": len(comparison.in_both), "missingHere": len(comparison.missing),
                   "hereOnly": len(comparison.here_only)},
        "missingHere": [{"eventId": e.event_id, "eventType": e.event_type, "created": contract.item_time(e.created)}
                        for e in comparison.missing],
        "hereOnly": [{"webhookId": s.webhook_id, "eventType": s.event_type, "receivedAt": s.received_at}
                     for s in comparison.here_only]}
    if backfill:
        document["backfill"] = {"by": "redelivery" if filled.by_redelivery else "store",
                                "stored": filled.stored, "alreadyStored": filled.already,
                                "redeliveryRequested": filled.requested,
                                "failed": [{"eventId": i, "reason": r} for i, r in filled.failed]}
    return document


def _summary(comparison: Any, filled: Any, backfill: bool) -> str:
    line = (f"{comparison.provider}: {len(comparison.in_both)} in both, {len(comparison.missing)} missing here, "
            f"{len(comparison.here_only)} here only")
    if backfill and filled.by_redelivery:
        line += f"; redelivery requested {len(filled.requested)}, failed {len(filled.failed)}"
        if filled.requested:
            line += (f"\n  {comparison.provider} sends them to the endpoint (signed, through the receiver) "
                     "shortly; run reconcile again to see them in both")
    elif backfill:
        line += f"; backfilled {len(filled.stored)}, already stored {len(filled.already)}, failed {len(filled.failed)}"
    for event_id, reason in filled.failed if backfill else []:
        verb = "request the redelivery of" if filled.by_redelivery else "backfill"
        line += f"\n  could not {verb} {event_id}: {reason}"
    return line
