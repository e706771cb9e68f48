"""`webhookctl connect`: the stack's endpoint registered with the provider through its API, and the signing
secret the provider uses stored with `secrets set`'s own code (newest first, so the old one stays valid).

Order matters for a secret the receiver must already know: where the provider takes our secret (GitHub) it
is stored before the provider starts signing with it; where the provider returns one (Stripe) it is stored
right after, and a rotation deletes the old endpoint only once the new secret is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webhookctl.operate.provider_apis import Endpoint, Registered, new_secret

CREATE, UPDATE, ROTATE, UNCHANGED = "create", "update", "rotate", "unchanged"

Store = Callable[[str], int]  # stores a secret newest first; returns how many the receiver accepts


@dataclass(frozen=True)
class Plan:
    provider: str
    action: str
    url: str
    events: tuple[str, ...]
    endpoint: Endpoint | None  # what is registered for the URL now, if anything

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.events) - set(self.endpoint.events if self.endpoint else ())))

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.endpoint.events if self.endpoint else ()) - set(self.events)))


@dataclass(frozen=True)
class Connected:
    plan: Plan
    endpoint: Endpoint | None  # None for a dry run
    secrets: int | None = None  # secrets the receiver accepts after a new one was stored; None: none stored
    applied: bool = True


@dataclass(frozen=True)
class Listed:
    provider: str
    url: str
    endpoint: Endpoint | None
    expected: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return self.endpoint is not None and set(self.endpoint.events) == set(self.expected)


def plan(api: Any, url: str, events: tuple[str, ...], *, rotate: bool) -> Plan:
    """What connect would do: create, rotate, update the event types, or nothing."""
    current = registered(api, url)
    wanted = tuple(sorted(set(events)))
    if current is None:
        action = CREATE
    elif rotate:
        action = ROTATE
    else:
        action = UNCHANGED if set(current.events) == set(wanted) else UPDATE
    return Plan(api.name, action, url, wanted, current)


def registered(api: Any, url: str) -> Endpoint | None:
    return next((e for e in api.endpoints() if e.url == url), None)


def connect(api: Any, url: str, events: tuple[str, ...], store: Store, *, rotate: bool = False,
            dry_run: bool = False, confirm: Callable[[Plan], None] = lambda plan: None) -> Connected:
    """Plan, then (unless dry_run, and once `confirm` lets it) apply the plan."""
    chosen = plan(api, url, events, rotate=rotate)
    if dry_run or chosen.action == UNCHANGED:
        return Connected(chosen, chosen.endpoint, applied=False)
    confirm(chosen)
    if chosen.action == UPDATE:
        return Connected(chosen, api.update(chosen.endpoint, url, chosen.events))
    if chosen.action == CREATE:
        return _create(api, chosen, store)
    return _rotate(api, chosen, store)


def _create(api: Any, chosen: Plan, store: Store) -> Connected:
    if api.takes_secret:
        secret = new_secret()
        count = store(secret)
        return Connected(chosen, api.create(chosen.url, chosen.events, secret).endpoint, count)
    made: Registered = api.create(chosen.url, chosen.events)
    try:
        count = store(made.secret)
    except BaseException:
        api.remove(made.endpoint)  # its secret is shown only once: an endpoint we cannot verify must go
        raise
    return Connected(chosen, made.endpoint, count)


def _rotate(api: Any, chosen: Plan, store: Store) -> Connected:
    if api.takes_secret:
        secret = new_secret()
        count = store(secret)
        return Connected(chosen, api.rotate(chosen.endpoint, chosen.url, chosen.events, secret).endpoint, count)
    made = api.rotate(chosen.endpoint, chosen.url, chosen.events)
    try:
        count = store(made.secret)
    except BaseException:
        api.remove(made.endpoint)
        raise
    api.retire(chosen.endpoint, made.endpoint)
    return Connected(chosen, made.endpoint, count)


def listing(api: Any, url: str, events: tuple[str, ...]) -> Listed:
    """Whether the provider's registration for the stack's URL has the expected event types."""
    return Listed(api.name, url, registered(api, url), tuple(sorted(set(events))))


def secret_store(secretsmanager: Any, secret_arn: str, provider: str, options: dict[str, str]) -> Store:
    """`secrets set`'s own code: newest first, earlier secrets kept valid for the rotation; `options` are
    what the receiver needs besides the secret (Square's notificationUrl)."""
    from webhookctl.operate.secrets import add_secret

    return lambda secret: add_secret(secretsmanager, secret_arn, provider, secret, options=options or None).secrets
