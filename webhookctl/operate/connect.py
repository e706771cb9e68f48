"""`webhookctl connect`: the stack's endpoint registered with the provider through its API, and the signing
secret the provider uses stored with `secrets set`'s own code (newest first, so the old one stays valid).

Order matters for a secret the receiver must already know: where the provider takes our secret (GitHub) it
is stored before the provider starts signing with it; where the provider returns one (Stripe) it is stored
right after, and a rotation deletes the old endpoint only once the new secret is stored.

Then, where the provider's API has one, its own test event proves the whole path: the provider signs it with
the secret just stored and posts it to the URL just registered, the receiver verifies and stores it, the
processor finishes it. `await_test` polls the store until it reaches the status its type gets (PROCESSED;
IGNORED for GitHub's ping, which is no payment), through the clock passed in, for at most `timeout` seconds.
A test event that never arrives leaves the registration and the stored secret as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webhookctl.edge.clock import Clock
from webhookctl.edge.errors import Interrupted
from webhookctl.handlers.webhook_common import contract
from webhookctl.operate.provider_apis import Endpoint, ProviderApiError, Registered, TestEvent, new_secret

CREATE, UPDATE, ROTATE, UNCHANGED = "create", "update", "rotate", "unchanged"

Store = Callable[[str], int]  # stores a secret newest first; returns how many the receiver accepts
Find = Callable[[TestEvent, float], "str | None"]  # the stored status of the test event received since T
SKEW = 60  # seconds: a test event stamped this much before the request (another clock) still counts
POLL_EVERY = 2.0
TEST_LISTING = 1000  # the newest events of the provider looked through for a test event found by type


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


# --- the provider's test event ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tested:
    sent: TestEvent | None  # None: the provider's API sends no test event (see `hint`)
    status: str | None = None  # the status it reached in the store; None: never stored
    waited: float = 0.0
    hint: str = ""

    @property
    def ok(self) -> bool:
        return self.sent is None or self.status == self.sent.expect

    @property
    def refused(self) -> bool:
        """The provider says the endpoint answered its test with an error (0: nothing answered): waiting
        cannot help."""
        return self.sent is not None and self.sent.answered is not None and not 200 <= self.sent.answered < 300


def await_test(api: Any, endpoint: Endpoint, events: tuple[str, ...], find: Find, clock: Clock, *,
               timeout: float, every: float = POLL_EVERY,
               on_progress: Callable[[str], None] = lambda line: None) -> Tested:
    """Ask for the provider's test event, then poll the store until it has the status its type gets, the
    provider says the endpoint refused it, or TIMEOUT seconds (measured by the clock and the sleeps both,
    so an injected clock that stands still still ends) have gone."""
    since = clock.time() - SKEW
    try:
        return _await(api, api.send_test(endpoint, events), find, since, clock, timeout, every, on_progress)
    except ProviderApiError as error:
        raise ProviderApiError(f"{error}; the endpoint stays registered and its secret stored (`--no-test-event` "
                               "skips the test event)") from None


def _await(api: Any, sent: TestEvent | None, find: Find, since: float, clock: Clock, timeout: float, every: float,
           on_progress: Callable[[str], None]) -> Tested:
    """Each round: what the provider recorded of the delivery, then the store; a line when the status moves."""
    if sent is None:
        return Tested(None, hint=api.no_test)
    on_progress(f"{api.name}: test event {sent.event_type} sent; waiting up to {timeout:g} s for it to reach "
                f"{sent.expect}")
    started, waited, status, seen = clock.monotonic(), 0.0, None, None
    try:
        while True:
            if sent.answered is None:  # what the provider has recorded since (Square: all, at once)
                sent = api.test_delivery(sent)
            status = find(sent, since)
            if status != seen:
                on_progress(f"{api.name}: test event {status or 'not stored yet'}")
                seen = status
            tested = Tested(sent, status, max(waited, clock.monotonic() - started))
            if tested.ok or tested.refused or status in contract.FINAL or tested.waited >= timeout:
                return tested
            clock.sleep(every)
            waited += every
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted while waiting for the {api.name} test event: the endpoint stays "
                          "registered and its secret stored") from None


def store_finder(dynamodb: Any, table: str, provider: str, clock: Clock) -> Find:
    """The stored status of a test event: by its id once the provider said it, else (for a provider that
    never says it) that of the newest event of its type received since then, through the time index (never
    a scan). By type, one received up to SKEW before the request also counts: two GitHub pings can be the
    same bytes, hence one stored event, so a repeated ping may add nothing the store could tell apart."""
    from webhookctl.operate.events import EventQuery, list_events

    def find(sent: TestEvent, since: float) -> str | None:
        if sent.webhook_id:
            item = dynamodb.get_item(TableName=table, ConsistentRead=True, Key={
                "webhookId": {"S": sent.webhook_id}, "timestamp": {"S": contract.ITEM_TIMESTAMP}}).get("Item")
            return (item or {}).get(contract.STATUS, {}).get("S")
        if not sent.by_type:  # its id is still to come from the provider's record
            return None
        query = EventQuery(since, clock.time() + SKEW, (provider,), limit=TEST_LISTING)
        listed = list_events(dynamodb, table, query).events
        return next((e.get("status") for e in listed if e.get("eventType") == sent.event_type), None)

    return find
