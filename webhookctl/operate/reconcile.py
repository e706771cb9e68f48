"""`webhookctl reconcile`: the provider's own record of events in a window compared with the store, and
the events it never delivered fed through the receiver's trusted path (after verification).

The store side is read through the ByProviderTime index (`events list`'s query), from the window's start to
now: an event made inside the window may have been delivered after it. An event is matched by its
provider event id (the item's providerEventId). A backfilled event comes from the provider's authenticated
API, so it skips signature checks only: the receiver's own `identify` and `store_and_enqueue` store it
(idempotently: conditional put, tombstone, enqueue, mark) with `source: reconcile`, and with the retention
the deployed receiver has (its EVENT_TTL_DAYS and REPLAY_GUARD_DAYS, read from its function configuration:
`receiver_retention`), so a backfilled event expires when a delivered one would.

Except where the provider's API has no event's original signed bytes (GitHub: a delivery's payload comes
back as parsed JSON). There the receiver's identity is the digest of the signed bytes, so an event stored
from re-serialised JSON would get a second identity, and a later manual redelivery would be processed
again. Such providers (`api.redelivers`) are asked to redeliver each missing event instead: the original
signed bytes then arrive through the normal, verified receiver path. The request is asynchronous; a later
run finds the event in the store and asks for nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webhookctl.edge.clock import Clock
from webhookctl.edge.errors import UsageError, WebhookctlError
from webhookctl.operate.provider_apis import ProviderApiError, RemoteEvent

DAY = 86400
RECONCILE = "reconcile"
EVERYTHING = 10**7  # the store listing's limit: the whole window


def check_window(api: Any, since: float, until: float, now: float) -> None:
    """Refuse a window the provider cannot answer for completely."""
    if since >= until:
        raise UsageError("--since must be before --until")
    if now - since > api.retention_days * DAY:
        raise UsageError(f"{api.name} keeps events for {api.retention_days} days: a window starting earlier "
                         f"cannot be reconciled; use --since {api.retention_days}d or later")


@dataclass(frozen=True)
class StoredEvent:
    webhook_id: str
    provider_event_id: str
    event_type: str
    received_at: str


@dataclass
class Comparison:
    provider: str
    since: float
    until: float
    in_both: list[RemoteEvent] = field(default_factory=list)
    missing: list[RemoteEvent] = field(default_factory=list)
    here_only: list[StoredEvent] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """event type -> {inBoth, missingHere, hereOnly}."""
        counts: dict[str, dict[str, int]] = {}
        for key, types in (("inBoth", [e.event_type for e in self.in_both]),
                           ("missingHere", [e.event_type for e in self.missing]),
                           ("hereOnly", [e.event_type for e in self.here_only])):
            for kind in types:
                counts.setdefault(kind, {"inBoth": 0, "missingHere": 0, "hereOnly": 0})[key] += 1
        return dict(sorted(counts.items()))


def compare(api: Any, dynamodb: Any, table: str, since: float, until: float, now: float) -> Comparison:
    """The provider's events in [since, until] against what the store holds for them."""
    remote: dict[str, RemoteEvent] = {}
    for event in api.events(since, until):
        remote.setdefault(event.event_id, event)
    stored = stored_events(dynamodb, table, api.name, since, now)
    by_id = {s.provider_event_id: s for s in stored}
    result = Comparison(api.name, since, until)
    for event_id, event in remote.items():
        (result.in_both if event_id in by_id else result.missing).append(event)
    last = _iso(until) + "~"
    result.here_only = [s for s in stored if s.provider_event_id not in remote and s.received_at <= last]
    return result


def stored_events(dynamodb: Any, table: str, provider: str, since: float, until: float) -> list[StoredEvent]:
    """The provider's stored events received in the window, through the time index (never a scan)."""
    from webhookctl.operate.events import EventQuery, list_events, replay_candidates

    listed = list_events(dynamodb, table, EventQuery(since, until, (provider,), limit=EVERYTHING)).events
    # The index does not project providerEventId: read it from the items that lack it.
    lacking = [e["webhookId"] for e in listed if not e.get("providerEventId")]
    full = {e["webhookId"]: e for e in replay_candidates(dynamodb, table, None, lacking)} if lacking else {}
    return [StoredEvent(e["webhookId"], (full.get(e["webhookId"]) or e).get("providerEventId") or "",
                        e.get("eventType") or "unknown", e.get("receivedAt") or "") for e in listed]


def _iso(seconds: float) -> str:
    from webhookctl.handlers.webhook_common import contract

    return contract.item_time(seconds)


# --- backfill ---------------------------------------------------------------------------------------------


@dataclass
class Backfilled:
    stored: list[str] = field(default_factory=list)  # webhook ids stored and enqueued now
    already: list[str] = field(default_factory=list)  # stored meanwhile (a late delivery, a concurrent run)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (provider event id, why)
    requested: list[str] = field(default_factory=list)  # provider event ids the provider was asked to redeliver
    by_redelivery: bool = False  # the provider redelivers (nothing is stored by webhookctl itself)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


@dataclass(frozen=True)
class Retention:
    """The deployed receiver's retention settings, in days."""

    event_ttl_days: int
    replay_guard_days: int


@dataclass(frozen=True)
class Target:
    """Where the receiver would store and enqueue, and how long it keeps what it stores."""

    dynamodb: Any
    sqs: Any
    table: str
    queue_url: str
    retention: Retention | None  # None for a provider that redelivers (nothing is stored by webhookctl)


def receiver_retention(lambda_client: Any, function_name: str) -> Retention:
    """EVENT_TTL_DAYS and REPLAY_GUARD_DAYS as the deployed receiver reads them (the contract's parser, with its
    defaults for a variable the function lacks), from its function configuration."""
    from botocore.exceptions import BotoCoreError, ClientError

    from webhookctl.handlers.webhook_common.contract import environment as env

    try:
        configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    except (BotoCoreError, ClientError) as error:
        code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else type(error).__name__
        raise WebhookctlError(f"cannot read the receiver's configuration ({function_name}: {code}): backfill "
                              "stores events with the stack's own retention, and needs "
                              "lambda:GetFunctionConfiguration on it") from None
    variables = (configuration.get("Environment") or {}).get("Variables") or {}
    try:
        return Retention(env.EVENT_TTL_DAYS.read(variables), env.REPLAY_GUARD_DAYS.read(variables))
    except env.ConfigError as error:
        raise WebhookctlError(f"the receiver {function_name} is misconfigured ({error}): fix the stack "
                              "(`webhookctl deploy`) before backfilling into it") from None


def backfill(api: Any, missing: list[RemoteEvent], target: Target, clock: Clock,
             on_progress: Callable[[str], None] = lambda line: None) -> Backfilled:
    """Store and enqueue each missing event as the receiver does once a signature has verified (or, for a
    provider that `redelivers`, ask it to send each one again)."""
    if api.redelivers:
        return _redeliver(api, missing, on_progress)
    receiver = _receiver()
    deps = receiver.Deps(target.dynamodb, target.sqs, None, _config(receiver, target), clock.time)
    result = Backfilled()
    # The receiver's log lines go to stdout, which is for data here.
    with contextlib.redirect_stdout(sys.stderr):
        for event in missing:
            _one(api, receiver, deps, event, result)
            on_progress(f"{event.event_id}: {_outcome(result)}")
    return result


def _one(api: Any, receiver: Any, deps: Any, event: RemoteEvent, result: Backfilled) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from webhookctl.handlers.webhook_common.providers import PROVIDERS

    try:
        delivery = api.delivery(event)
        request = receiver.Request(api.name, delivery.headers, delivery.body, "")
        for identified in receiver.identify(PROVIDERS[api.name], request, deps):
            stored = dataclasses.replace(identified, source=RECONCILE)
            duplicate = receiver.store_and_enqueue(stored, deps)
            (result.already if duplicate else result.stored).append(stored.webhook_id)
    except receiver.Reject as reject:
        result.failed.append((event.event_id, reject.message))
    except ProviderApiError as error:
        result.failed.append((event.event_id, str(error)))
    except (BotoCoreError, ClientError) as error:
        result.failed.append((event.event_id, receiver.aws_error(error)))


def _redeliver(api: Any, missing: list[RemoteEvent], on_progress: Callable[[str], None]) -> Backfilled:
    """One redelivery request per missing event (only those: `compare` found them absent from the store)."""
    result = Backfilled(by_redelivery=True)
    for event in missing:
        try:
            api.redeliver(event)
        except ProviderApiError as error:
            result.failed.append((event.event_id, str(error)))
        else:
            result.requested.append(event.event_id)
        on_progress(f"{event.event_id}: {_outcome(result)}")
    return result


def _outcome(result: Backfilled) -> str:
    if result.by_redelivery:
        return f"redelivery requested {len(result.requested)}, failed {len(result.failed)}"
    counts = (len(result.stored), len(result.already), len(result.failed))
    return "stored {}, already stored {}, failed {}".format(*counts)


def _receiver() -> Any:
    """The receiver module by its Lambda name (one copy of the handler code, as the sandbox loads it)."""
    from webhookctl.tryit.functions import lambda_layout

    lambda_layout()
    return importlib.import_module("receiver")


def _config(receiver: Any, target: Target) -> Any:
    """The receiver's config with the deployed retention: no signing secrets (nothing is verified here)."""
    return receiver.runtime.ReceiverConfig(
        table_name=target.table, queue_url=target.queue_url, secrets_arn="",
        event_ttl_days=target.retention.event_ttl_days, replay_guard_days=target.retention.replay_guard_days,
        secrets_cache_seconds=0)
