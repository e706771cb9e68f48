"""`webhookctl local up|status` (the sandbox) and `webhookctl send` (signed sample events)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from webhookctl.context import AppContext, pass_app
from webhookctl.errors import UsageError
from webhookctl.options import aws_options, parse_pairs, suffix_option

KINDS = ("payment_succeeded", "payment_failed", "refund", "dispute")
PROVIDER_NAMES = ("stripe", "adyen", "square", "checkout", "razorpay", "paddle", "standard", "github")


@click.command()
@click.option("--provider", "-p", required=True, type=click.Choice(PROVIDER_NAMES),
              help="Who signs the event.")
@suffix_option(required=False)
@click.option("--url", help="POST here instead of the stack's WebhookUrl + provider.")
@click.option("--local", "use_local", is_flag=True,
              help="Send to the sandbox started by `webhookctl local up`.")
@click.option("--type", "kind", type=click.Choice(KINDS), default="payment_succeeded", show_default=True,
              help="Which sample event to build.")
@click.option("--event", "event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Send this file's bytes as the body instead of a sample.")
@click.option("--header", "headers", multiple=True, metavar="NAME=VALUE", help="Extra header (repeatable).")
@click.option("--secret", envvar="WEBHOOKCTL_SIGNING_SECRET", show_envvar=True,
              help="Sign with this secret instead of the stack's (SigningSecretArn).")
@click.option("--duplicate", is_flag=True,
              help="Redeliver the same event, freshly signed: expect duplicate: true.")
@click.option("--tamper", is_flag=True, help="Alter one byte after signing: expect 401.")
@click.option("--count", "-n", type=click.IntRange(1, 100_000), default=1, show_default=True,
              help="Send N distinct events concurrently and print throughput and latency percentiles.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Requests in flight with --count.")
@aws_options
@pass_app
def send(app: AppContext, provider: str, suffix: str | None, url: str | None, use_local: bool, kind: str,
         event_file: Path | None, headers: tuple[str, ...], secret: str | None, duplicate: bool, tamper: bool,
         count: int, concurrency: int) -> None:
    """Sign a sample event as PROVIDER does and POST it; exit 1 on an unexpected answer.

    \b
      webhookctl send --local -p stripe --type refund
      webhookctl send -s prod -p adyen --duplicate
      webhookctl send --local -p paddle --count 1000
    """
    from webhookctl import send as service

    if sum((duplicate, tamper, count > 1)) > 1:
        raise UsageError("--duplicate, --tamper and --count are separate drills: pass one of them")
    target = resolve_target(app, provider, suffix, url, use_local, secret)
    make = sample_factory(provider, kind, event_file, parse_pairs(headers, "--header"))
    if count > 1:
        report = service.deliver_concurrently([service.signed(make(), target, now=int(time.time()))
                                               for _ in range(count)], workers=concurrency)
        click.echo(service.format_load(report))
        service.check(report.outcomes)
        return
    first = service.signed(make(), target, now=int(time.time()))
    plan = [service.tampered(first)] if tamper else [first]
    outcomes = service.deliver(plan)
    if duplicate:
        again = service.signed(first.sample, target, now=int(time.time()) + 1, expect="duplicate")
        outcomes += service.deliver([again])
    for outcome in outcomes:
        click.echo(service.format_outcome(outcome))
    service.check(outcomes)


def sample_factory(provider: str, kind: str, event_file: Path | None, extra: dict[str, str]):
    """A function making a fresh sample each call (a file event keeps its body, gets fresh ids)."""
    from dataclasses import replace

    from webhookctl.samples import file_event, sample_event

    body = event_file.read_bytes() if event_file else None

    def make():
        now = int(time.time())
        if body is not None:
            sample = file_event(provider, body, now=now)
        else:
            sample = sample_event(provider, kind, now=now)
        return replace(sample, headers={**sample.headers, **extra})

    return make


def resolve_target(app: AppContext, provider: str, suffix: str | None, url: str | None, use_local: bool,
                   secret: str | None):
    """URL and secret from the flags, the local sandbox's state, or the stack's outputs."""
    from webhookctl.send import Target

    if use_local:
        import os

        from webhookctl.local.state import read_state, use_sandbox_environment

        state = read_state()
        use_sandbox_environment(state, os.environ)
        app.endpoint_url, app.region, suffix = state.endpoint_url, state.region, suffix or state.suffix
        url = url or f"{state.webhook_url}{provider}"
    if url and secret:
        return Target(url, secret)
    if suffix is None:
        raise UsageError("say where to send: --suffix S (a deployed stack), --local (the sandbox), "
                         "or --url URL with --secret")
    return stack_target(app, provider, suffix, url, secret)


def stack_target(app: AppContext, provider: str, suffix: str, url: str | None, secret: str | None):
    from webhookctl.send import Target, stack_secret
    from webhookctl.stack_outputs import require_output, stack_outputs
    from webhookctl.templates import outputs as keys
    from webhookctl.templates.settings import Settings

    stack = Settings(suffix=suffix).stack_name
    outputs = stack_outputs(app.clients.cloudformation, stack)
    url = url or require_output(outputs, keys.WEBHOOK_URL, stack) + provider
    if secret:
        return Target(url, secret)
    arn = require_output(outputs, keys.SIGNING_SECRET_ARN, stack)
    secret, options = stack_secret(app.clients.secretsmanager, arn, provider)
    return Target(url, secret, options)


@click.group()
def local() -> None:
    """Run the whole pipeline on this machine, no AWS account needed."""
