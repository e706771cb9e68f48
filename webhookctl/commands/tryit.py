"""`webhookctl local up|status` (the sandbox) and `webhookctl send` (signed sample events)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from webhookctl.commands.options import aws_options, parse_pairs, suffix_option
from webhookctl.edge.context import AppContext, pass_app
from webhookctl.edge.errors import UsageError
from webhookctl.tryit.samples import KINDS, PROVIDERS  # pure and small: --help stays fast


@click.command()
@click.option("--provider", "-p", required=True, type=click.Choice(PROVIDERS),
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
    from webhookctl.tryit import send as service

    request = service.SendRequest(provider, kind, event_file.read_bytes() if event_file else None,
                                  parse_pairs(headers, "--header"), duplicate, tamper, count, concurrency)
    request.check()  # before any AWS call
    target = service.resolve_target(app, provider, suffix, url, use_local, secret)
    result = service.run_drill(request, target, clock=app.clock.time)
    if isinstance(result, service.LoadReport):
        click.echo(service.format_load(result))
        service.check(result.outcomes)
        return
    for outcome in result:
        click.echo(service.format_outcome(outcome))
    service.check(result)


@click.group()
def local() -> None:
    """Run the whole pipeline on this machine, no AWS account needed."""


@local.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port of the webhook endpoint on 127.0.0.1 (0: any free port).")
@suffix_option(default="local")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), envvar="WEBHOOKCTL_STATE_DIR",
              show_envvar=True, help="Where the state file other commands read lives [default: .webhookctl].")
@click.option("--retry-delay", type=click.IntRange(0, 43200), default=1, show_default=True,
              help="Seconds before a failed message is retried (AWS waits the queue's visibility timeout).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print a line per webhook.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of the local stack (repeatable), as deploy takes them.")
@click.option("--edge-limits/--no-edge-limits", default=True, show_default=True,
              help="Apply the stage throttle (429) and the WAF rate rule (403) the stack was deployed with.")
@click.option("--waf-counts-loopback", is_flag=True,
              help="Count 127.0.0.1 against the WAF rate rule (by default it plays the providers, who are trusted).")
def up(port: int, suffix: str, state_dir: Path | None, retry_delay: int, quiet: bool, sets: tuple[str, ...],
       edge_limits: bool, waf_counts_loopback: bool) -> None:
    """Start the sandbox: emulator, stack, real handlers, pollers; Ctrl-C stops it.

    \b
    Then, in another shell:
      webhookctl send --local -p stripe
      webhookctl --local dlq stats --suffix local
    """
    import gc
    import os
    import signal
    import threading

    from webhookctl.tryit import sandbox as local_sandbox
    from webhookctl.tryit.console import console
    from webhookctl.tryit.state import LocalState, claim_state_dir, remove_state, state_file, write_state

    started = time.perf_counter()
    say = lambda line: click.echo(line, err=True)  # noqa: E731
    path = state_file(state_dir)
    claim_state_dir(path, _alive)  # before the 2 s start: a busy or unwritable state dir fails at once
    options = local_sandbox.SandboxOptions(
        port=port, suffix=suffix, retry_delay_s=retry_delay, settings=tuple(parse_pairs(sets, "--set").items()),
        edge_limits=edge_limits, loopback_trusted=not waf_counts_loopback)
    box = _start(local_sandbox, options, say, None if quiet else console())
    stopping = threading.Event()
    # SIGTERM is what `local down` sends: a sandbox started with & in a script ignores SIGINT.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        write_state(LocalState(box.endpoint_url, box.webhook_url, suffix, box.clients.region, os.getpid()), path)
        click.echo(ready_banner(box, suffix, path, time.perf_counter() - started))
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        say("stopping the sandbox...")
        remove_state(path, os.getpid())
        box.stop()
        say("stopped")
        gc.freeze()  # `up` ends its process: collecting the sandbox's heap at exit only delayed it (0.3 s)


def _start(module, options, say, show):
    from webhookctl.tryit.emulator import MotoMismatch  # loaded with the sandbox module

    try:
        return module.start_sandbox(options, say, show=show)
    except ModuleNotFoundError as exc:
        raise UsageError(f"the sandbox needs moto ({exc.name} is missing): pip install 'webhookctl[local]'") \
            from exc
    except MotoMismatch as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        if exc.errno == 98:  # EADDRINUSE
            raise UsageError(f"port {options.port} is in use: pass --port N, or --port 0 for any free port") \
                from exc
        raise


def ready_banner(box, suffix: str, state_path: Path, seconds: float) -> str:
    from webhookctl.edge.output import table
    from webhookctl.handlers.webhook_common.contract.names import stack_name
    from webhookctl.tryit.sandbox import secrets_table
    from webhookctl.tryit.state import STATE_DIR_ENV, state_file

    lines = [f"sandbox ready in {seconds:.1f} s (stack {stack_name(suffix)}, emulator {box.endpoint_url})",
             "", f"webhooks:  POST {box.webhook_url}{{provider}}", "",
             "signing secrets (shown once; `webhookctl send --local` reads them itself):",
             table(("PROVIDER", "SECRET"), secrets_table(box.signing_secrets)), "",
             f"other commands: webhookctl --local <command> --suffix {suffix}   (state: {state_path})",
             *([f"  (this state dir is not the default: export {STATE_DIR_ENV}={state_path.parent} first)"]
               if state_path != state_file() else []),
             f"  or: export AWS_ENDPOINT_URL={box.endpoint_url} AWS_REGION={box.clients.region} "
             "AWS_ACCESS_KEY_ID=webhookctl-local AWS_SECRET_ACCESS_KEY=webhookctl-local",
             "the emulator keeps nothing across restarts: every `local up` deploys a fresh stack",
             "Ctrl-C (or `webhookctl local down` from another shell) stops everything."]
    return "\n".join(lines)


@local.command()
def status() -> None:
    """Show the running sandbox (from its state file); exit 1 if none is running."""

    from webhookctl.edge.errors import WebhookctlError
    from webhookctl.handlers.webhook_common.contract.names import stack_name
    from webhookctl.tryit.state import read_state

    try:
        state = read_state()
    except UsageError as exc:  # no state file: not running, which the help promises is exit 1
        raise WebhookctlError(str(exc)) from None
    if not _alive(state.pid):
        raise WebhookctlError(f"the sandbox (pid {state.pid}) is not running any more: start it with "
                              "`webhookctl local up`")
    click.echo(f"sandbox pid {state.pid}: webhooks POST {state.webhook_url}{{provider}}, emulator "
               f"{state.endpoint_url}, stack {stack_name(state.suffix)} ({state.region})")


@local.command()
@click.option("--timeout", type=click.FloatRange(0), default=30, show_default=True,
              help="Seconds to wait for it to stop.")
def down(timeout: float) -> None:
    """Stop the running sandbox (SIGTERM: it stops as cleanly as with Ctrl-C in its terminal)."""
    import os
    import signal

    from webhookctl.edge.errors import WebhookctlError
    from webhookctl.tryit.state import read_state, state_file

    state, path = read_state(), state_file()
    try:
        os.kill(state.pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        click.echo(f"the sandbox (pid {state.pid}) was not running; removed its stale state file {path}", err=True)
        return
    deadline = time.monotonic() + timeout
    while _alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(state.pid):
        raise WebhookctlError(f"the sandbox (pid {state.pid}) did not stop within {timeout:g} s; "
                              f"stop it with `kill {state.pid}`")
    click.echo(f"stopped the sandbox (pid {state.pid})", err=True)


def _alive(pid: int) -> bool:
    """Running, and not a zombie: a stopped sandbox stays in the process table until its parent reaps it."""
    import os
    from pathlib import Path

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # Linux: the state letter follows the command name in parentheses
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True
