"""Small clients for the providers' own APIs: webhook endpoints (what `connect` registers) and the provider's
record of events (what `reconcile` compares with the store). Stdlib HTTP only.

One row per provider in `APIS`. A client's credential comes from one environment variable (`variable`) or a
named Secrets Manager secret (`CredentialSecret`), is sent only to the provider's base URL (overridable with
`base_env`, which tests point at local fakes), and never appears in a message. 429 (and 5xx) answers are
retried after `Retry-After` seconds, through the sleep passed in. Lists are paged through to the end.

Where the provider's API can send an endpoint a test event (`send_test`: GitHub's ping, Square's subscription
test, a Paddle simulation), `connect` sends one and waits for it in the store; where it cannot (Stripe),
`no_test` says what to do instead.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets as random
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from webhookctl.edge.errors import UsageError, WebhookctlError
from webhookctl.handlers.webhook_common import contract, normalise

RETRIED = (429, 500, 502, 503, 504)
ATTEMPTS = 6
TIMEOUT = 30
MAX_WAIT = 120  # seconds: a longer Retry-After is waited for at most this long per attempt
NETWORK_ERROR = "x-webhookctl-network-error"  # marks an Answer made up for a request that got no answer


class ProviderApiError(WebhookctlError):
    """The provider's API refused or kept failing; the message has the status, never the credential."""


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class Registered:
    endpoint: Endpoint
    secret: str


@dataclass(frozen=True)
class RemoteEvent:
    """One event as the provider's API records it; `ref` is what `delivery` needs to fetch it in full."""

    event_id: str  # compared with the stored item's providerEventId
    event_type: str
    created: float  # epoch seconds
    ref: Any = None


@dataclass(frozen=True)
class Delivery:
    """The request the provider would have sent: the event's JSON bytes and its headers (lower-cased)."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TestEvent:
    """A test event the provider was asked to send, and how `connect` recognises it in the store."""

    __test__ = False  # (not a pytest test class)

    event_type: str
    webhook_id: str | None = None  # the receiver's id for it, where the provider says which event it sent
    expect: str = contract.PROCESSED  # IGNORED for a type the normaliser does not map (GitHub's ping)
    answered: int | None = None  # the endpoint's HTTP status as the provider recorded it (0: no answer)
    ref: Any = None  # what `test_delivery` needs to find the provider's record of it
    by_type: bool = False  # the provider never says its id (GitHub): the store is searched by type and time


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


class Http:
    """JSON over HTTPS to one base URL, with the credential in headers and Retry-After honoured."""

    def __init__(self, provider: str, base: str, headers: dict[str, str], source: str,
                 sleep: Callable[[float], None]) -> None:
        """SOURCE names where the credential came from (its variable, or its secret) for messages."""
        self.provider, self.base, self.source, self.sleep = provider, base.rstrip("/"), source, sleep
        self._headers = headers

    def call(self, method: str, path: str, *, query: list[tuple[str, str]] | None = None,
             form: list[tuple[str, str]] | None = None, body: Any = None) -> Answer:
        """One API call, retried on 429/5xx; 401/403 become a usage error naming the credential's source."""
        url = self._url(path, query)
        data, headers = self._payload(form, body)
        if method == "POST":  # one key for every attempt: a retried create is not a second endpoint (Stripe)
            headers["Idempotency-Key"] = random.token_hex(16)
        for attempt in range(1, ATTEMPTS + 1):
            answer = self._send(urllib.request.Request(url, data=data, method=method, headers=headers))
            if answer.status not in RETRIED and not _rate_limited(answer):
                return self._checked(answer, method, path)
            if attempt < ATTEMPTS:
                self.sleep(_wait(answer.headers, attempt))
        if NETWORK_ERROR in answer.headers:
            raise ProviderApiError(f"could not reach the {self.provider} API at {self.base} "
                                   f"({answer.headers[NETWORK_ERROR]}) in {ATTEMPTS} attempts")
        raise ProviderApiError(f"{self.provider} API answered {answer.status} to {method} {path} "
                               f"{ATTEMPTS} times; try again later")

    def _url(self, path: str, query: list[tuple[str, str]] | None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.base + path
        if not url.startswith(self.base + "/"):
            raise ProviderApiError(f"{self.provider} API pointed at {url!r}, outside {self.base}; refusing to "
                                   "send the credential there")
        return url + ("?" + urllib.parse.urlencode(query) if query else "")

    def _payload(self, form: list[tuple[str, str]] | None, body: Any) -> tuple[bytes | None, dict[str, str]]:
        headers = {"Accept": "application/json", "User-Agent": "webhookctl", **self._headers}
        if form is not None:
            return urllib.parse.urlencode(form).encode(), {**headers,
                                                            "Content-Type": "application/x-www-form-urlencoded"}
        if body is not None:
            return json.dumps(body).encode(), {**headers, "Content-Type": "application/json"}
        return None, headers

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - https or the fake
                return Answer(response.status, _json(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _json(error.read()), dict(error.headers or {}))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            return Answer(503, None, {NETWORK_ERROR: type(reason).__name__})

    def _checked(self, answer: Answer, method: str, path: str) -> Answer:
        if answer.status in (401, 403):
            raise UsageError(f"{self.provider} rejected the credential in {self.source} (HTTP {answer.status}): "
                             "check that it is valid and allowed to manage webhooks and read events")
        if answer.status >= 400:
            raise ProviderApiError(f"{self.provider} API answered {answer.status} to {method} {path}: "
                                   f"{_error_text(answer.body)}")
        return answer


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def _rate_limited(answer: Answer) -> bool:
    """GitHub answers a secondary rate limit with 403 and Retry-After (or no requests remaining)."""
    lowered = {k.lower(): v for k, v in answer.headers.items()}
    return answer.status == 403 and ("retry-after" in lowered or lowered.get("x-ratelimit-remaining") == "0")


def _wait(headers: Mapping[str, str], attempt: int) -> float:
    """Retry-After's seconds where given, else exponential back-off (1, 2, 4 ... s)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        return min(float(lowered["retry-after"]), MAX_WAIT)
    except (KeyError, ValueError):
        return min(2.0 ** (attempt - 1), MAX_WAIT)


def _error_text(body: Any) -> str:
    """The provider's error message (Stripe error.message, GitHub message); never headers or the request."""
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else body.get("message")
        if isinstance(message, str):
            return message[:300]
    return "no error message"


def credential(variable: str, provider: str, environ: Mapping[str, str]) -> str:
    value = environ.get(variable, "").strip()
    if not value:
        raise UsageError(f"set {variable} to a {provider} API credential (it is read from the environment, "
                         "never stored or printed), or pass --credential-secret NAME")
    return value


SECRET_KEY = "token"  # a JSON credential secret's key (or the provider's variable name, one secret for all)


@dataclass(frozen=True)
class CredentialSecret:
    """A Secrets Manager secret holding a provider API credential: read once, never printed or stored."""

    name: str
    text: str = field(repr=False)
    shared: bool = False  # read for every provider (`connect --list`): only a key naming the provider counts

    @property
    def source(self) -> str:
        """What messages call it (never its value)."""
        return f"secret {self.name}"

    def token(self, api: type[ProviderApi]) -> str:
        """The SecretString itself, or a JSON object's API.variable or `token` key."""
        text = self.text.strip()
        try:
            document = json.loads(text) if text.startswith("{") else None
        except ValueError:
            raise UsageError(f"{self.source} starts like JSON but is not: store the {api.name} API credential "
                             f"alone, or a JSON object with a {SECRET_KEY!r} or {api.variable!r} key") from None
        if self.shared:
            value = document.get(api.variable) if isinstance(document, dict) else None
        else:
            value = text if document is None else document.get(api.variable) or document.get(SECRET_KEY)
        if not isinstance(value, str) or not value.strip():
            where = f"a {api.variable!r} key" if self.shared else f"a {SECRET_KEY!r} or {api.variable!r} key"
            raise UsageError(f"{self.source} holds no {api.name} API credential: store it alone (for one "
                             f"--provider), or in a JSON object under {where}")
        return value.strip()


def read_credential_secret(secretsmanager: Any, name: str) -> CredentialSecret:
    """The secret's current SecretString; a missing or unreadable secret is a usage error naming it."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = secretsmanager.get_secret_value(SecretId=name)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "ClientError")
        raise UsageError(f"cannot read the credential secret {name} ({code}): check --credential-secret and "
                         "that your AWS identity may secretsmanager:GetSecretValue it") from None
    except BotoCoreError as error:
        raise UsageError(f"cannot read the credential secret {name} ({type(error).__name__})") from None
    if not value.get("SecretString"):
        raise UsageError(f"the credential secret {name} has no SecretString: store the credential as text")
    return CredentialSecret(name, value["SecretString"])


# --- The clients' shape -----------------------------------------------------------------------------------


class ProviderApi(ABC):
    """One provider's endpoints and events; the class attributes say where, with what and for how long."""

    name: ClassVar[str]
    variable: ClassVar[str]  # the environment variable holding the API credential
    base_env: ClassVar[str]  # the environment variable that overrides the base URL
    default_base: ClassVar[str]
    retention_days: ClassVar[int]  # how far back the provider's API lists events
    takes_secret: ClassVar[bool]  # True: the provider signs with a secret we give it; False: it returns one
    default_events: ClassVar[tuple[str, ...]]  # the event types webhook_common.normalise maps
    extra_headers: ClassVar[dict[str, str]] = {}
    # True: the API returns no event's original signed bytes, so a backfill asks the provider to send the
    # event again (`redeliver`) instead of storing it from `delivery`.
    redelivers: ClassVar[bool] = False
    # For a provider whose API sends no test event (`send_test` returns None): what to do instead.
    no_test: ClassVar[str] = ""

    def __init__(self, http: Http, target: str | None = None) -> None:
        self.http = http

    def send_test(self, endpoint: Endpoint, events: tuple[str, ...]) -> TestEvent | None:
        """Ask the provider to send ENDPOINT a test event; None where its API has no such call."""
        return None

    def test_delivery(self, sent: TestEvent) -> TestEvent:
        """SENT with what the provider has recorded of its delivery so far (the event's id, the endpoint's
        answer); providers that say it all when asked to send (Square) have nothing to add."""
        return sent

    def secret_options(self, url: str) -> dict[str, str]:
        """What the receiver needs besides the secret to verify this provider (none by default)."""
        return {}

    def use_endpoint(self, url: str) -> None:
        """Providers whose event record belongs to one endpoint (GitHub) find it here; the rest need none."""
        return None

    def retire(self, old: Endpoint, new: Endpoint) -> None:
        """After a rotation that made a new endpoint, and once its secret is stored, delete the old one."""
        if old.id != new.id:
            self.remove(old)

    @abstractmethod
    def endpoints(self) -> list[Endpoint]: ...

    @abstractmethod
    def create(self, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered: ...

    @abstractmethod
    def update(self, endpoint: Endpoint, url: str, events: tuple[str, ...]) -> Endpoint: ...

    @abstractmethod
    def rotate(self, endpoint: Endpoint, url: str, events: tuple[str, ...],
               secret: str | None = None) -> Registered: ...

    @abstractmethod
    def remove(self, endpoint: Endpoint) -> None: ...

    @abstractmethod
    def events(self, since: float, until: float) -> Iterator[RemoteEvent]: ...

    def delivery(self, event: RemoteEvent) -> Delivery:
        """The event as the provider posts it, for the receiver's trusted path (providers that redeliver
        have none: re-serialised JSON would be a different identity from the signed bytes)."""
        raise NotImplementedError(f"{self.name} backfills by redelivery")

    def redeliver(self, event: RemoteEvent) -> None:
        """Ask the provider to send EVENT to the endpoint again, signed (providers with `redelivers`)."""
        raise NotImplementedError(f"{self.name} backfills through the receiver's trusted path")


# --- Stripe: /v1/webhook_endpoints and /v1/events ---------------------------------------------------------


class StripeApi(ProviderApi):
    """Stripe's REST API: form-encoded requests, cursor pagination with starting_after and has_more."""

    name = "stripe"
    variable = "STRIPE_API_KEY"
    base_env = "WEBHOOKCTL_STRIPE_API_BASE"
    default_base = "https://api.stripe.com"
    retention_days = 30
    takes_secret = False  # Stripe generates the endpoint's signing secret and returns it once, on create
    # The event types the normaliser maps (webhook_common.normalise._STRIPE).
    default_events = normalise.SUBSCRIBED["stripe"]
    no_test = ("Stripe's API has no call that sends an endpoint a test event: in a sandbox (test mode), "
               "`stripe trigger payment_intent.succeeded` (Stripe CLI) makes a real test event that Stripe "
               "delivers to every endpoint subscribed to it; then `webhookctl events list --provider stripe "
               "--since 5m` shows it")

    def _pages(self, path: str, query: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self.http.call("GET", path, query=[*query, ("limit", "100"),
                                                      *([("starting_after", cursor)] if cursor else [])]).body
            data = page.get("data", []) if isinstance(page, dict) else []
            yield from data
            if not data or not page.get("has_more"):
                return
            cursor = data[-1]["id"]

    def endpoints(self) -> list[Endpoint]:
        return [_stripe_endpoint(e) for e in self._pages("/v1/webhook_endpoints", [])]

    def create(self, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        created = self.http.call("POST", "/v1/webhook_endpoints", form=_stripe_form(url, events)).body
        return Registered(_stripe_endpoint(created), created["secret"])

    def update(self, endpoint: Endpoint, url: str, events: tuple[str, ...]) -> Endpoint:
        return _stripe_endpoint(self.http.call("POST", f"/v1/webhook_endpoints/{_quote(endpoint.id)}",
                                               form=_stripe_form(url, events)).body)

    def rotate(self, endpoint: Endpoint, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        """Stripe's API cannot roll a secret: a new endpoint for the same URL gets a new one (the receiver
        dedupes the two endpoints' copies by event id until `retire` deletes the old endpoint)."""
        return self.create(url, events)

    def remove(self, endpoint: Endpoint) -> None:
        self.http.call("DELETE", f"/v1/webhook_endpoints/{_quote(endpoint.id)}")

    def events(self, since: float, until: float) -> Iterator[RemoteEvent]:
        query = [("created[gte]", str(int(since))), ("created[lte]", str(int(until)))]
        for event in self._pages("/v1/events", query):
            yield RemoteEvent(event["id"], event.get("type") or "unknown", float(event.get("created") or 0), event)

    def delivery(self, event: RemoteEvent) -> Delivery:
        """/v1/events returns the very object Stripe posts to endpoints."""
        return Delivery(json.dumps(event.ref, separators=(",", ":"), ensure_ascii=False).encode())


def _stripe_form(url: str, events: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("url", url), *(("enabled_events[]", e) for e in events),
            ("description", "webhookctl: payment-webhooks pipeline")]


def _stripe_endpoint(value: dict[str, Any]) -> Endpoint:
    return Endpoint(value["id"], value.get("url", ""), tuple(sorted(value.get("enabled_events") or ())))


def _quote(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")


# --- GitHub: repository or organisation hooks and their deliveries ----------------------------------------

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GithubApi(ProviderApi):
    """GitHub's REST API on a repository (OWNER/REPO) or organisation (ORG) hook; Link-header pagination."""

    name = "github"
    variable = "GITHUB_TOKEN"
    base_env = "WEBHOOKCTL_GITHUB_API_BASE"
    default_base = "https://api.github.com"
    retention_days = 3  # hook deliveries are kept for 3 days
    takes_secret = True  # GitHub signs with the secret we give the hook
    redelivers = True  # the deliveries API has the payload as JSON, not the bytes GitHub signed
    extra_headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    default_events = normalise.SUBSCRIBED["github"]

    def __init__(self, http: Http, target: str | None = None) -> None:
        if not target or target.count("/") > 1 or target.startswith("/") or target.endswith("/"):
            raise UsageError("github needs --target OWNER/REPO (a repository hook) or --target ORG "
                             "(an organisation hook)")
        self.http = http
        self.prefix = f"/repos/{target}/hooks" if "/" in target else f"/orgs/{target}/hooks"
        self.hook_id: str | None = None

    def _pages(self, path: str, query: list[tuple[str, str]] | None = None) -> Iterator[Any]:
        url: str | None = path
        first = [*(query or []), ("per_page", "100")]
        while url:
            answer = self.http.call("GET", url, query=first if url == path else None)
            yield from answer.body or []
            link = {k.lower(): v for k, v in answer.headers.items()}.get("link", "")
            match = _NEXT.search(link)
            url = match[1] if match else None

    def endpoints(self) -> list[Endpoint]:
        return [_github_endpoint(h) for h in self._pages(self.prefix) if h.get("name") == "web"]

    def create(self, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        secret = secret or new_secret()
        hook = self.http.call("POST", self.prefix, body={"name": "web", "active": True, "events": list(events),
                                                         "config": _github_config(url, secret)}).body
        return Registered(_github_endpoint(hook), secret)

    def update(self, endpoint: Endpoint, url: str, events: tuple[str, ...], secret: str | None = None) -> Endpoint:
        """Events (and, on rotation, the secret); the config is sent only with a secret, so it is kept."""
        change: dict[str, Any] = {"active": True, "events": list(events)}
        if secret:
            change["config"] = _github_config(url, secret)
        return _github_endpoint(self.http.call("PATCH", f"{self.prefix}/{_quote(endpoint.id)}", body=change).body)

    def rotate(self, endpoint: Endpoint, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        secret = secret or new_secret()
        return Registered(self.update(endpoint, url, events, secret), secret)

    def remove(self, endpoint: Endpoint) -> None:
        self.http.call("DELETE", f"{self.prefix}/{_quote(endpoint.id)}")

    def send_test(self, endpoint: Endpoint, events: tuple[str, ...]) -> TestEvent:
        """POST .../hooks/{id}/pings (204): GitHub sends the hook a `ping`, signed, after answering. A ping is
        no payment: the receiver verifies and stores it, the processor marks it IGNORED (GitHub also pings a
        hook it has just created: either ping proves the URL and the secret)."""
        hook = _quote(endpoint.id)
        before = max((d["id"] for d in self.http.call("GET", f"{self.prefix}/{hook}/deliveries").body or []),
                     default=0)
        self.http.call("POST", f"{self.prefix}/{hook}/pings")
        return TestEvent("ping", expect=contract.IGNORED, ref=(hook, before), by_type=True)

    def test_delivery(self, sent: TestEvent) -> TestEvent:
        """The ping's delivery (newer than any before the request; ids grow) and what the endpoint answered.
        Its id stays unknown: the receiver's is the digest of bytes the deliveries API does not return."""
        hook, before = sent.ref
        deliveries = self.http.call("GET", f"{self.prefix}/{hook}/deliveries").body or []
        ping = next((d for d in deliveries if d.get("event") == "ping" and d.get("id", 0) > before), None)
        return dataclasses.replace(sent, answered=int(ping.get("status_code") or 0)) if ping else sent

    def use_endpoint(self, url: str) -> None:
        """Deliveries belong to one hook: the one registered for the stack's URL."""
        hook = next((e for e in self.endpoints() if e.url == url), None)
        if hook is None:
            raise UsageError(f"no GitHub hook on {self.prefix} delivers to {url}: run `webhookctl connect` first")
        self.hook_id = hook.id

    def events(self, since: float, until: float) -> Iterator[RemoteEvent]:
        """Deliveries newest first (redeliveries share a guid); stops paging once older than the window."""
        for delivery in self._pages(f"{self.prefix}/{self.hook_id}/deliveries"):
            when = _epoch(delivery.get("delivered_at"))
            if when < since:
                return
            if when <= until:
                action = delivery.get("action")
                kind = f"{delivery.get('event')}.{action}" if action else str(delivery.get("event"))
                yield RemoteEvent(delivery["guid"], kind, when, delivery["id"])

    def redeliver(self, event: RemoteEvent) -> None:
        """POST .../deliveries/{id}/attempts (202 Accepted): GitHub sends the delivery's original signed bytes
        again, under the same X-GitHub-Delivery guid, to the hook's URL; the receiver identifies them by the
        digest of those bytes, so the event keeps the one identity a manual redelivery would also give it.
        (The deliveries API returns the payload as parsed JSON: storing it re-serialised would not.)"""
        self.http.call("POST", f"{self.prefix}/{self.hook_id}/deliveries/{_quote(event.ref)}/attempts")


def _github_config(url: str, secret: str | None) -> dict[str, str]:
    config = {"url": url, "content_type": "json", "insecure_ssl": "0"}
    return {**config, "secret": secret} if secret else config


def _github_endpoint(hook: dict[str, Any]) -> Endpoint:
    return Endpoint(str(hook["id"]), (hook.get("config") or {}).get("url", ""), tuple(sorted(hook.get("events") or ())))


def _epoch(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def new_secret() -> str:
    """A signing secret for providers that take ours: 32 random bytes, hex."""
    return random.token_hex(32)


# --- Square: webhook subscriptions and SearchEvents ---------------------------------------------------------


class SquareApi(ProviderApi):
    """Square's Connect v2 API: JSON bodies, `cursor` pagination; each subscription has a signature key."""

    name = "square"
    variable = "SQUARE_ACCESS_TOKEN"
    base_env = "WEBHOOKCTL_SQUARE_API_BASE"
    default_base = "https://connect.squareup.com"
    extra_headers = {"Square-Version": "2024-10-17"}
    retention_days = 28  # SearchEvents returns the last 28 days
    takes_secret = False  # Square generates the signature key
    default_events = normalise.SUBSCRIBED["square"]

    def secret_options(self, url: str) -> dict[str, str]:
        """Square signs the notification URL with the body: the receiver needs it (anchors: Square)."""
        return {"notificationUrl": url}

    def endpoints(self) -> list[Endpoint]:
        found, cursor = [], None
        while True:
            page = self.http.call("GET", "/v2/webhooks/subscriptions",
                                  query=[("limit", "100"), *([("cursor", cursor)] if cursor else [])]).body or {}
            found += [_square_endpoint(s) for s in page.get("subscriptions", [])]
            cursor = page.get("cursor")
            if not cursor:
                return found

    def create(self, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        body = {"idempotency_key": new_secret()[:32], "subscription": {
            "name": "webhookctl payment-webhooks", "enabled": True, "event_types": list(events),
            "notification_url": url}}
        made = self.http.call("POST", "/v2/webhooks/subscriptions", body=body).body["subscription"]
        return Registered(_square_endpoint(made), made["signature_key"])

    def update(self, endpoint: Endpoint, url: str, events: tuple[str, ...]) -> Endpoint:
        body = {"subscription": {"enabled": True, "event_types": list(events), "notification_url": url}}
        return _square_endpoint(self.http.call("PUT", f"/v2/webhooks/subscriptions/{_quote(endpoint.id)}",
                                               body=body).body["subscription"])

    def rotate(self, endpoint: Endpoint, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        """UpdateWebhookSubscriptionSignatureKey: Square signs with the new key at once (the receiver re-reads
        its secrets after a failed check, and Square retries)."""
        key = self.http.call("POST", f"/v2/webhooks/subscriptions/{_quote(endpoint.id)}/signature-key",
                             body={"idempotency_key": new_secret()[:32]}).body["signature_key"]
        return Registered(endpoint, key)

    def remove(self, endpoint: Endpoint) -> None:
        self.http.call("DELETE", f"/v2/webhooks/subscriptions/{_quote(endpoint.id)}")

    def send_test(self, endpoint: Endpoint, events: tuple[str, ...]) -> TestEvent:
        """TestWebhookSubscription: Square posts a sample event of a subscribed type, signed with the
        subscription's key, before it answers; the answer has the endpoint's status and the payload sent."""
        kind = _test_type(events, ("payment.updated", "payment.created"))
        result = self.http.call("POST", f"/v2/webhooks/subscriptions/{_quote(endpoint.id)}/test",
                                body={"event_type": kind}).body.get("subscription_test_result") or {}
        sent = _json(str(result.get("payload") or "").encode())
        event_id = sent.get("event_id") if isinstance(sent, dict) else None
        webhook_id = contract.webhook_id(self.name, event_id) if event_id else None
        return TestEvent(kind, webhook_id, _expected(self, kind), result.get("status_code"),
                         by_type=webhook_id is None)

    def events(self, since: float, until: float) -> Iterator[RemoteEvent]:
        query = {"filter": {"created_at": {"start_at": _rfc3339(since), "end_at": _rfc3339(until)}},
                 "sort": {"sort_field": "DEFAULT", "order": "DESC"}}
        cursor = None
        while True:
            body = {"limit": 100, "query": query, **({"cursor": cursor} if cursor else {})}
            page = self.http.call("POST", "/v2/events", body=body).body or {}
            for event in page.get("events") or []:
                yield RemoteEvent(event["event_id"], event.get("type") or "unknown", _epoch(event.get("created_at")),
                                  event)
            cursor = page.get("cursor")
            if not cursor:
                return

    def delivery(self, event: RemoteEvent) -> Delivery:
        """SearchEvents returns the event object Square posts to subscriptions."""
        return Delivery(json.dumps(event.ref, separators=(",", ":"), ensure_ascii=False).encode())


def _square_endpoint(value: dict[str, Any]) -> Endpoint:
    return Endpoint(value["id"], value.get("notification_url", ""), tuple(sorted(value.get("event_types") or ())))


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Paddle Billing: notification settings and events ----------------------------------------------------


class PaddleApi(ProviderApi):
    """Paddle Billing's API: JSON bodies, `meta.pagination.next` URLs; a destination's endpoint_secret_key."""

    name = "paddle"
    variable = "PADDLE_API_KEY"
    base_env = "WEBHOOKCTL_PADDLE_API_BASE"
    default_base = "https://api.paddle.com"
    retention_days = 90  # the events list goes back 90 days
    takes_secret = False  # Paddle generates the endpoint secret key
    default_events = normalise.SUBSCRIBED["paddle"]

    def _pages(self, path: str, query: list[tuple[str, str]] | None = None) -> Iterator[dict[str, Any]]:
        url: str | None = path
        while url:
            first = [*(query or []), ("per_page", "200")]
            page = self.http.call("GET", url, query=first if url == path else None).body or {}
            yield from page.get("data") or []
            pagination = (page.get("meta") or {}).get("pagination") or {}
            url = pagination.get("next") if pagination.get("has_more") else None

    def endpoints(self) -> list[Endpoint]:
        return [_paddle_endpoint(n) for n in self.http.call("GET", "/notification-settings").body.get("data", [])
                if n.get("type") == "url"]

    def create(self, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        body = {"description": "webhookctl payment-webhooks", "destination": url, "type": "url",
                "subscribed_events": list(events), "include_sensitive_fields": False}
        made = self.http.call("POST", "/notification-settings", body=body).body["data"]
        return Registered(_paddle_endpoint(made), made["endpoint_secret_key"])

    def update(self, endpoint: Endpoint, url: str, events: tuple[str, ...]) -> Endpoint:
        body = {"destination": url, "active": True, "subscribed_events": list(events)}
        return _paddle_endpoint(self.http.call("PATCH", f"/notification-settings/{_quote(endpoint.id)}",
                                               body=body).body["data"])

    def rotate(self, endpoint: Endpoint, url: str, events: tuple[str, ...], secret: str | None = None) -> Registered:
        """No API rolls a destination's key: a new destination gets one (the receiver dedupes the two
        destinations' copies by event id until `retire` deletes the old one)."""
        return self.create(url, events)

    def remove(self, endpoint: Endpoint) -> None:
        self.http.call("DELETE", f"/notification-settings/{_quote(endpoint.id)}")

    def send_test(self, endpoint: Endpoint, events: tuple[str, ...]) -> TestEvent:
        """Webhook simulator: a single-event simulation for the destination (made once, reused), then a run
        (POST /simulations/{id}/runs, 201 pending): Paddle sends a demo event, signed with the destination's
        key, soon after; `test_delivery` reads the run's record of it."""
        kind = _test_type(events, ("transaction.completed", "transaction.paid"))
        simulation = next((s for s in self._pages("/simulations", [("notification_setting_id", endpoint.id)])
                           if s.get("name") == SIMULATION_NAME and s.get("type") == kind
                           and s.get("status", "active") == "active"), None)
        if simulation is None:
            simulation = self.http.call("POST", "/simulations", body={
                "notification_setting_id": endpoint.id, "name": SIMULATION_NAME, "type": kind}).body["data"]
        run = self.http.call("POST", f"/simulations/{_quote(simulation['id'])}/runs").body["data"]
        return TestEvent(kind, expect=_expected(self, kind), ref=(simulation["id"], run["id"]))

    def test_delivery(self, sent: TestEvent) -> TestEvent:
        """The run's event, once sent: the notification's event_id (in the request body Paddle recorded) and
        the destination's answer."""
        simulation, run = sent.ref
        found = self.http.call("GET", f"/simulations/{_quote(simulation)}/runs/{_quote(run)}",
                               query=[("include", "events")]).body.get("data") or {}
        event = next((e for e in found.get("events") or [] if (e.get("request") or {}).get("body")), None)
        if event is None:
            return sent
        body = _json(str(event["request"]["body"]).encode())
        event_id = body.get("event_id") if isinstance(body, dict) else None
        answer = (event.get("response") or {}).get("status_code")
        return dataclasses.replace(sent, webhook_id=contract.webhook_id(self.name, event_id) if event_id else None,
                                   answered=int(answer or 0))

    def events(self, since: float, until: float) -> Iterator[RemoteEvent]:
        """The events list has no time filter: every page, filtered by occurred_at."""
        for event in self._pages("/events"):
            when = _epoch(event.get("occurred_at"))
            if since <= when <= until:
                yield RemoteEvent(event["event_id"], event.get("event_type") or "unknown", when, event)

    def delivery(self, event: RemoteEvent) -> Delivery:
        """The event as Paddle posts it (the notification adds only its notification_id)."""
        return Delivery(json.dumps(event.ref, separators=(",", ":"), ensure_ascii=False).encode())


SIMULATION_NAME = "webhookctl connect test event"


def _test_type(events: tuple[str, ...], preferred: tuple[str, ...]) -> str:
    """A payment type the endpoint is subscribed to (the provider refuses others), else its first type."""
    return next((e for e in preferred if e in events), None) or sorted(events)[0]


def _expected(api: ProviderApi, kind: str) -> str:
    """PROCESSED for a type the normaliser maps, IGNORED for one it does not."""
    return contract.PROCESSED if kind in api.default_events else contract.IGNORED


def _paddle_endpoint(value: dict[str, Any]) -> Endpoint:
    names = [e.get("name") if isinstance(e, dict) else e for e in value.get("subscribed_events") or ()]
    return Endpoint(value["id"], value.get("destination", ""), tuple(sorted(n for n in names if n)))


APIS: dict[str, type[ProviderApi]] = {api.name: api for api in (StripeApi, SquareApi, PaddleApi, GithubApi)}


def supported() -> list[str]:
    return sorted(APIS)


def open_api(provider: str, environ: Mapping[str, str], sleep: Callable[[float], None],
             target: str | None = None, secret: CredentialSecret | None = None) -> ProviderApi:
    """PROVIDER's client, its base URL read from `environ` and its credential from SECRET, else `environ`."""
    api = APIS.get(provider)
    if api is None:
        raise UsageError(f"webhookctl cannot drive {provider}'s API yet: use one of {', '.join(supported())}, "
                         "or register the endpoint in its dashboard and `webhookctl secrets set` its secret")
    token = secret.token(api) if secret else credential(api.variable, provider, environ)
    headers = {"Authorization": f"Bearer {token}", **api.extra_headers}
    source = secret.source if secret else api.variable
    http = Http(provider, environ.get(api.base_env) or api.default_base, headers, source, sleep)
    return api(http, target)
