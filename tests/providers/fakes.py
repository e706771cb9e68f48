"""Local fake provider APIs on 127.0.0.1, built from the providers' documented request and response shapes.

- Stripe (https://docs.stripe.com/api): bearer secret key; form-encoded bodies with `enabled_events[]`;
  list objects `{"object": "list", "data": [...], "has_more", "url"}` paged by `limit` and `starting_after`,
  newest first; a webhook endpoint's `secret` only in the create answer; errors `{"error": {...}}`.
- GitHub (https://docs.github.com/rest/repos/webhooks): bearer token; JSON bodies; hooks whose
  `config.secret` reads `********`; deliveries newest first paged by `cursor` through the `Link` header,
  a delivery's detail with its recorded `request.headers` and `request.payload`; errors `{"message"}`;
  `POST .../deliveries/{id}/attempts` answers 202, and `send_redeliveries()` (GitHub sends after
  answering) sends the delivery's original bytes again, signed with the hook's secret
  (`X-Hub-Signature-256`) under the same `X-GitHub-Delivery` guid, to the hook's URL through `transport`
  (HTTP by default; tests that have no HTTP endpoint hand it to the receiver), and records the attempt as
  a new delivery with `redelivery: true`.

- Test events, sent for real to the endpoint URL the fake was given, signed as the provider signs, through
  `transport` (HTTP by default; a test maps the stack's URL to the sandbox's gateway, as DNS would):
  GitHub `POST .../hooks/{id}/pings` answers 204, then sends a `ping` (X-Hub-Signature-256) on a thread;
  Square `POST /v2/webhooks/subscriptions/{id}/test` (`event_type` must be one the subscription has) posts a
  sample event (x-square-hmacsha256-signature over notification URL + body) before answering
  `{"subscription_test_result": {..., "status_code", "payload"}}`; Paddle's webhook simulator
  (`GET`/`POST /simulations`, `POST /simulations/{id}/runs` answering 201 `pending`) sends a demo event
  (`Paddle-Signature: ts=...;h1=...`) to the destination on a thread. `send_tests = False`: the calls are
  answered, nothing is ever delivered. `settle()` waits for the threads.

All can be told to answer the next N requests with 429 and `Retry-After` (`throttle`), and record every
request (`requests`) so tests see what was sent, including whether the credential travelled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from webhookctl.tryit.serving import stop_serving


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str
    body: bytes
    idempotency_key: str = ""


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeApi:
    """State plus `route(method, path, query, body) -> Reply`; subclasses implement the provider."""

    token = ""
    page_cap = 100

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.throttled = 0  # how many 429s were served
        self._throttle = 0
        self.throttle_methods = {"GET", "POST", "PUT", "PATCH", "DELETE"}
        self.lock = threading.Lock()
        self.transport: Callable[[str, bytes, dict[str, str]], int] = post
        self.clock: Callable[[], float] = time.time
        self.send_tests = True  # False: test-event calls are answered, nothing is delivered
        self.tests_sent: list[int] = []  # the endpoint's answer to each test event delivered, in order
        self._threads: list[threading.Thread] = []

    def throttle(self, count: int) -> None:
        self._throttle = count

    def later(self, send: Callable[[], int]) -> None:
        """Deliver after answering, as GitHub and Paddle do: on a thread, recording the endpoint's answer."""
        def run() -> None:
            self.tests_sent.append(send())

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()

    def settle(self) -> None:
        """Wait for every delivery `later` started."""
        for thread in list(self._threads):
            thread.join(timeout=30)

    def handle(self, seen: Seen) -> Reply:
        with self.lock:
            self.requests.append(seen)
            if self._throttle and seen.method in self.throttle_methods:
                self._throttle -= 1
                self.throttled += 1
                return Reply(429, self.error("Too many requests"), {"Retry-After": "7"})
            if seen.authorization != f"Bearer {self.token}":
                return Reply(401, self.error("Invalid credentials"))
            return self.route(seen)

    def route(self, seen: Seen) -> Reply:
        raise NotImplementedError

    def error(self, message: str) -> Any:
        return {"message": message}

    def page_size(self, seen: Seen, name: str) -> int:
        return min(int(seen.query.get(name, ["30"])[0]), self.page_cap)


# --- Stripe -----------------------------------------------------------------------------------------------


class FakeStripe(FakeApi):
    token = "sk_test_fake_0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.endpoints: dict[str, dict[str, Any]] = {}  # id -> endpoint, with its secret
        self.events: list[dict[str, Any]] = []  # any order; listed newest first

    def error(self, message: str) -> Any:
        return {"error": {"type": "invalid_request_error", "message": message}}

    def route(self, seen: Seen) -> Reply:
        form = urllib.parse.parse_qs(seen.body.decode())
        parts = seen.path.strip("/").split("/")
        if parts == ["v1", "events"] and seen.method == "GET":
            return Reply(200, self._events(seen))
        if parts == ["v1", "webhook_endpoints"]:
            if seen.method == "GET":
                listed = sorted(self.endpoints.values(), key=lambda e: e["created"], reverse=True)
                return Reply(200, self._list(seen, [self._public(e) for e in listed], seen.path))
            return Reply(200, self._create(form))
        if len(parts) == 3 and parts[:2] == ["v1", "webhook_endpoints"] and parts[2] in self.endpoints:
            return self._one(seen.method, parts[2], form)
        return Reply(404, self.error(f"Unrecognized request URL ({seen.method}: {seen.path})"))

    def _create(self, form: dict[str, list[str]]) -> dict[str, Any]:
        endpoint = {"id": f"we_{secrets.token_hex(8)}", "object": "webhook_endpoint", "api_version": None,
                    "application": None, "created": 1_700_000_000 + len(self.endpoints),
                    "description": form.get("description", [None])[0], "enabled_events": form["enabled_events[]"],
                    "livemode": False, "metadata": {}, "status": "enabled", "url": form["url"][0],
                    "secret": f"whsec_{secrets.token_hex(16)}"}
        self.endpoints[endpoint["id"]] = endpoint
        return dict(endpoint)

    def _one(self, method: str, endpoint_id: str, form: dict[str, list[str]]) -> Reply:
        endpoint = self.endpoints[endpoint_id]
        if method == "DELETE":
            del self.endpoints[endpoint_id]
            return Reply(200, {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})
        if method == "POST":
            if "url" in form:
                endpoint["url"] = form["url"][0]
            if "enabled_events[]" in form:
                endpoint["enabled_events"] = form["enabled_events[]"]
        return Reply(200, self._public(endpoint))

    @staticmethod
    def _public(endpoint: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in endpoint.items() if k != "secret"}

    def _events(self, seen: Seen) -> dict[str, Any]:
        low = int(seen.query.get("created[gte]", ["0"])[0])
        high = int(seen.query.get("created[lte]", ["9999999999"])[0])
        chosen = sorted((e for e in self.events if low <= e["created"] <= high),
                        key=lambda e: (e["created"], e["id"]), reverse=True)
        return self._list(seen, chosen, "/v1/events")

    def _list(self, seen: Seen, items: list[dict[str, Any]], url: str) -> dict[str, Any]:
        after = seen.query.get("starting_after", [None])[0]
        if after is not None:
            items = items[[i["id"] for i in items].index(after) + 1:]
        size = self.page_size(seen, "limit")
        return {"object": "list", "data": items[:size], "has_more": len(items) > size, "url": url}


def stripe_event(index: int, created: int, event_type: str = "payment_intent.succeeded") -> dict[str, Any]:
    """An event object as /v1/events returns it (and as Stripe posts it)."""
    intent = f"pi_fake{index:06d}"
    obj = ({"id": f"ch_fake{index:06d}", "object": "charge", "amount": 1000 + index, "amount_refunded": 1000 + index,
            "currency": "eur", "payment_intent": intent, "refunded": True}
           if event_type.startswith("charge.") else
           {"id": intent, "object": "payment_intent", "amount": 1000 + index, "amount_received": 1000 + index,
            "currency": "eur", "status": "succeeded"})
    return {"id": f"evt_1Fake{index:06d}", "object": "event", "api_version": "2024-06-20", "created": created,
            "data": {"object": obj},
            "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": event_type}


# --- GitHub -----------------------------------------------------------------------------------------------


class FakeGithub(FakeApi):
    token = "ghp_fakeToken0123456789"

    def __init__(self, repo: str = "acme/shop") -> None:
        super().__init__()
        self.repo = repo
        self.hooks: dict[int, dict[str, Any]] = {}
        self.secrets: dict[int, str] = {}  # hook id -> the secret it signs with
        self.deliveries: dict[int, list[dict[str, Any]]] = {}  # hook id -> delivery details, any order
        self.lost: set[int] = set()  # delivery ids whose detail answers 404
        self.base = ""
        self.bodies: dict[int, bytes] = {}  # delivery id -> the bytes GitHub sent (the API shows only JSON)
        self.redeliveries: list[int] = []  # delivery ids whose redelivery was requested, in order
        self.pending: list[tuple[int, dict[str, Any]]] = []  # requested, not yet sent

    def route(self, seen: Seen) -> Reply:
        prefix = f"/repos/{self.repo}/hooks"
        if not seen.path.startswith(prefix):
            return Reply(404, {"message": "Not Found"})
        parts = [p for p in seen.path[len(prefix):].split("/") if p]
        body = json.loads(seen.body or b"null")
        if not parts:
            if seen.method == "POST":
                return Reply(201, self._create(body))
            return self._paged(seen, [self._public(h) for h in sorted(self.hooks.values(), key=lambda h: h["id"])])
        hook = int(parts[0])
        if hook not in self.hooks:
            return Reply(404, {"message": "Not Found"})
        if len(parts) == 1:
            return self._hook(seen.method, hook, body)
        if parts[1] == "deliveries":
            return self._deliveries(seen, hook, parts[2:])
        if parts[1:] == ["pings"] and seen.method == "POST":
            return self._ping(hook)
        return Reply(404, {"message": "Not Found"})

    def _ping(self, hook_id: int) -> Reply:
        """204 No Content; the ping goes out after the answer."""
        if self.send_tests:
            hook = self._public(self.hooks[hook_id])
            payload = {"zen": "Keep it logically awesome.", "hook_id": hook_id, "hook": hook,
                       "repository": {"id": 1296269, "full_name": self.repo, "private": False},
                       "sender": {"login": "monalisa", "id": 2, "type": "User"}}
            body = json.dumps(payload, indent=2).encode()
            self.later(lambda: self._send(hook_id, str(uuid.uuid4()), "ping", body))
        return Reply(204, None)

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        hook_id = 400_000_000 + len(self.hooks) + 1
        self.hooks[hook_id] = {"type": "Repository", "id": hook_id, "name": body["name"],
                               "active": body.get("active", True), "events": body.get("events", ["push"]),
                               "config": {k: v for k, v in body["config"].items() if k != "secret"},
                               "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
        self.secrets[hook_id] = body["config"].get("secret", "")
        self.deliveries[hook_id] = []
        return self._public(self.hooks[hook_id])

    def _hook(self, method: str, hook_id: int, body: dict[str, Any] | None) -> Reply:
        hook = self.hooks[hook_id]
        if method == "PATCH":
            hook.update({k: body[k] for k in ("events", "active") if k in body})
            if "config" in body:  # GitHub replaces the config: a PATCH without a secret drops it
                hook["config"] = {k: v for k, v in body["config"].items() if k != "secret"}
                self.secrets[hook_id] = body["config"].get("secret", "")
        elif method == "DELETE":
            del self.hooks[hook_id]
            return Reply(204, None)
        return Reply(200, self._public(hook))

    def _public(self, hook: dict[str, Any]) -> dict[str, Any]:
        secret = {"secret": "********"} if self.secrets.get(hook["id"]) else {}
        path = f"{self.base}/repos/{self.repo}/hooks/{hook['id']}"
        return {**hook, "config": {**hook["config"], **secret}, "url": path, "test_url": f"{path}/test",
                "ping_url": f"{path}/pings", "deliveries_url": f"{path}/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None}}

    def _deliveries(self, seen: Seen, hook_id: int, rest: list[str]) -> Reply:
        recorded = sorted(self.deliveries[hook_id], key=lambda d: (d["delivered_at"], d["id"]), reverse=True)
        if rest:
            found = next((d for d in recorded if str(d["id"]) == rest[0] and d["id"] not in self.lost), None)
            if found is None:
                return Reply(404, {"message": "Not Found"})
            if rest[1:] == ["attempts"] and seen.method == "POST":
                return self._redeliver(hook_id, found)
            if len(rest) == 1 and seen.method == "GET":
                return Reply(200, found)
            return Reply(404, {"message": "Not Found"})
        summaries = [{k: v for k, v in d.items() if k not in ("request", "response", "url")} for d in recorded]
        return self._paged(seen, summaries, cursor=True)

    def _paged(self, seen: Seen, items: list[dict[str, Any]], cursor: bool = False) -> Reply:
        """page=N for hooks, cursor=<delivery id> for deliveries; the next page's URL in Link."""
        size = self.page_size(seen, "per_page")
        if cursor:
            after = seen.query.get("cursor", [None])[0]
            start = [str(i["id"]) for i in items].index(after) + 1 if after else 0
            following = {"cursor": str(items[start + size - 1]["id"])} if start + size < len(items) else None
        else:
            page = int(seen.query.get("page", ["1"])[0])
            start = (page - 1) * size
            following = {"page": str(page + 1)} if start + size < len(items) else None
        headers = {}
        if following:
            query = urllib.parse.urlencode({"per_page": str(size), **following})
            headers["Link"] = f'<{self.base}{seen.path}?{query}>; rel="next"'
        return Reply(200, items[start:start + size], headers)

    def _redeliver(self, hook_id: int, original: dict[str, Any]) -> Reply:
        """202 Accepted; GitHub sends it later (`send_redeliveries`), as it does, after answering."""
        self.redeliveries.append(original["id"])
        self.pending.append((hook_id, original))
        return Reply(202, {})

    def send_redeliveries(self) -> list[int]:
        """Each requested redelivery sent now; the endpoint's status codes, in request order."""
        with self.lock:
            pending, self.pending = self.pending, []
        return [self._send_again(hook_id, original) for hook_id, original in pending]

    def _send_again(self, hook_id: int, original: dict[str, Any]) -> int:
        """The original bytes, signed now with the hook's secret, to its URL; the attempt is recorded."""
        return self._send(hook_id, original["guid"], original["event"], self.bodies[original["id"]], again=True)

    def _send(self, hook_id: int, guid: str, event: str, body: bytes, again: bool = False) -> int:
        """BODY signed with the hook's secret (X-Hub-Signature-256), POSTed to its URL, recorded as a delivery."""
        headers = {"X-GitHub-Delivery": guid, "X-GitHub-Event": event,
                   "X-GitHub-Hook-ID": str(hook_id), "Content-Type": "application/json",
                   "User-Agent": "GitHub-Hookshot/abc"}
        secret = self.secrets.get(hook_id)
        if secret:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        status = self.transport(self.hooks[hook_id]["config"]["url"], body, headers)
        with self.lock:
            recorded = self.deliver(hook_id, guid, json.loads(body), event, self.clock(), status, body)
            recorded["redelivery"] = again
        return status

    def deliver(self, hook_id: int, guid: str, payload: dict[str, Any], event: str, delivered_at: float,
                status_code: int, body: bytes | None = None) -> dict[str, Any]:
        """Record a delivery as GitHub does (the request it sent and the answer it got); BODY is the bytes it
        sent (default: the payload serialised as GitHub does), which only a redelivery sends again."""
        delivery_id = 10_000_000_000 + sum(len(d) for d in self.deliveries.values()) + 1
        self.bodies[delivery_id] = body if body is not None else json.dumps(payload, separators=(",", ":")).encode()
        when = datetime.fromtimestamp(delivered_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        recorded = {"id": delivery_id, "guid": guid, "delivered_at": when, "redelivery": False, "duration": 0.3,
                    "status": "OK" if status_code < 300 else "Invalid HTTP Response: 500",
                    "status_code": status_code, "event": event, "action": payload.get("action"),
                    "installation_id": None, "repository_id": 1296269, "throttled_at": None,
                    "url": f"{self.base}/repos/{self.repo}/hooks/{hook_id}/deliveries/{delivery_id}",
                    "request": {"headers": {"Accept": "*/*", "User-Agent": "GitHub-Hookshot/abc",
                                            "X-GitHub-Delivery": guid, "X-GitHub-Event": event,
                                            "X-GitHub-Hook-ID": str(hook_id), "Content-Type": "application/json"},
                                "payload": payload},
                    "response": {"headers": {}, "payload": None}}
        self.deliveries[hook_id].append(recorded)
        return recorded


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """An HTTP POST as a provider makes it; the answer's status (0 when nothing answered)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - a local endpoint
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0


# --- Square -----------------------------------------------------------------------------------------------


class FakeSquare(FakeApi):
    """Square's webhook subscriptions API and SearchEvents (https://developer.squareup.com/reference/square)."""

    token = "EAAAfakeSquareAccessToken"

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: dict[str, dict[str, Any]] = {}  # id -> subscription, with its signature_key
        self.events: list[dict[str, Any]] = []

    def error(self, message: str) -> Any:
        return {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED", "detail": message}]}

    def route(self, seen: Seen) -> Reply:
        body = json.loads(seen.body or b"null")
        parts = seen.path.strip("/").split("/")
        if parts == ["v2", "events"] and seen.method == "POST":
            return Reply(200, self._search(body))
        if parts[:3] != ["v2", "webhooks", "subscriptions"]:
            return Reply(404, self.error("not found"))
        if len(parts) == 3:
            if seen.method == "POST":
                return Reply(200, {"subscription": self._create(body)})
            listed = [self._public(s) for s in self.subscriptions.values()]
            return Reply(200, {"subscriptions": listed} if listed else {})
        subscription = self.subscriptions.get(parts[3])
        if subscription is None:
            return Reply(404, self.error("subscription not found"))
        if parts[4:] == ["signature-key"]:
            subscription["signature_key"] = secrets.token_urlsafe(16)
            return Reply(200, {"signature_key": subscription["signature_key"]})
        if parts[4:] == ["test"] and seen.method == "POST":
            return self._test(subscription, (body or {}).get("event_type"))
        if seen.method == "PUT":
            subscription.update({k: v for k, v in body["subscription"].items()
                                 if k in ("event_types", "notification_url", "enabled", "name")})
        elif seen.method == "DELETE":
            del self.subscriptions[parts[3]]
            return Reply(200, {})
        return Reply(200, {"subscription": self._public(subscription)})

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        made = {"id": f"wbhk_{secrets.token_hex(12)}", "api_version": "2024-10-17", "enabled": True,
                "created_at": "2026-01-01 00:00:00 +0000 UTC", "updated_at": "2026-01-01 00:00:00 +0000 UTC",
                "signature_key": secrets.token_urlsafe(16), **body["subscription"]}
        self.subscriptions[made["id"]] = made
        return dict(made)

    @staticmethod
    def _public(subscription: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in subscription.items() if k != "signature_key"}

    def _test(self, subscription: dict[str, Any], event_type: str | None) -> Reply:
        """Square sends the sample event, signed, and answers with what the notification URL answered."""
        kind = event_type or subscription["event_types"][0]
        if kind not in subscription["event_types"]:
            return Reply(400, {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "BAD_REQUEST",
                                           "detail": f"event type {kind} is not in the subscription"}]})
        body = json.dumps(square_sample(kind, self.clock())).encode()
        url = subscription["notification_url"]
        mac = hmac.new(subscription["signature_key"].encode(), url.encode() + body, hashlib.sha256).digest()
        status = None
        if self.send_tests:
            status = self.transport(url, body, {"Content-Type": "application/json",
                                                "x-square-hmacsha256-signature": base64.b64encode(mac).decode(),
                                                "Square-Environment": "Sandbox"})
            self.tests_sent.append(status)
        when = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return Reply(200, {"subscription_test_result": {
            "id": str(uuid.uuid4()), "status_code": status, "payload": body.decode(), "notification_url": url,
            "created_at": when, "updated_at": when}})

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        window = body["query"]["filter"]["created_at"]
        chosen = sorted((e for e in self.events if window["start_at"] <= e["created_at"] <= window["end_at"]),
                        key=lambda e: e["created_at"], reverse=True)
        start = int(body.get("cursor") or 0)
        size = min(int(body.get("limit", 100)), self.page_cap)
        page = chosen[start:start + size]
        answer: dict[str, Any] = {"events": page,
                                  "metadata": [{"event_id": e["event_id"], "api_version": "2024-10-17"} for e in page]}
        if start + size < len(chosen):
            answer["cursor"] = str(start + size)
        return answer


def square_sample(event_type: str, created: float) -> dict[str, Any]:
    """The sample event Square's subscription test sends for EVENT_TYPE (a payment, refund or dispute)."""
    when = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    money = {"amount": 100, "currency": "USD"}
    family = event_type.split(".")[0]
    obj = {"payment": {"id": "KkAkhdMsgzn59SM8A89WgKwekxLZY", "amount_money": money, "total_money": money,
                       "status": "COMPLETED", "created_at": when, "updated_at": when},
           "refund": {"id": "KkAkhdMsgzn59SM8A89WgKwekxLZY_refund", "payment_id": "KkAkhdMsgzn59SM8A89WgKwekxLZY",
                      "amount_money": money, "status": "COMPLETED"},
           "dispute": {"id": "XDgyFu7yo1E2S5lQGGpYn", "amount_money": money, "state": "EVIDENCE_REQUIRED",
                       "disputed_payment": {"payment_id": "KkAkhdMsgzn59SM8A89WgKwekxLZY"}}}[family]
    return {"merchant_id": "MLFAKE", "type": event_type, "event_id": str(uuid.uuid4()), "created_at": when,
            "data": {"type": family, "id": obj["id"], "object": {family: obj}}}


def square_event(index: int, created: float) -> dict[str, Any]:
    """A payment.updated event as SearchEvents returns it (and as Square posts it)."""
    when = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    payment = {"id": f"sqpay{index:04d}", "amount_money": {"amount": 500 + index, "currency": "USD"},
               "status": "COMPLETED", "created_at": when, "updated_at": when}
    return {"merchant_id": "MLFAKE", "location_id": "LFAKE", "type": "payment.updated",
            "event_id": f"{uuid.UUID(int=index + 1)}", "created_at": when,
            "data": {"type": "payment", "id": payment["id"], "object": {"payment": payment}}}


# --- Paddle -----------------------------------------------------------------------------------------------


class FakePaddle(FakeApi):
    """Paddle Billing's notification settings and events (https://developer.paddle.com/api-reference)."""

    token = "pdl_sdbx_apikey_fake0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.settings: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []  # listed in id order (Paddle ids sort by time)
        self.base = ""
        self.simulations: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}  # run id -> run, with its `events`

    def error(self, message: str) -> Any:
        return {"error": {"type": "request_error", "code": "authentication_malformed", "detail": message},
                "meta": {"request_id": "req_fake"}}

    def route(self, seen: Seen) -> Reply:
        body = json.loads(seen.body or b"null")
        parts = seen.path.strip("/").split("/")
        meta = {"request_id": "req_fake"}
        if parts == ["events"]:
            return Reply(200, self._events(seen))
        if parts[0] == "simulations":
            return self._simulations(seen, parts[1:], body)
        if parts[0] != "notification-settings":
            return Reply(404, self.error("not found"))
        if len(parts) == 1:
            if seen.method == "POST":
                return Reply(201, {"data": self._create(body), "meta": meta})
            return Reply(200, {"data": list(self.settings.values()), "meta": meta})
        setting = self.settings.get(parts[1])
        if setting is None:
            return Reply(404, self.error("not found"))
        if seen.method == "DELETE":
            del self.settings[parts[1]]
            return Reply(204, None)
        if seen.method == "PATCH":
            setting.update({k: v for k, v in body.items() if k in ("destination", "active", "description")})
            if "subscribed_events" in body:
                setting["subscribed_events"] = _paddle_subscribed(body["subscribed_events"])
        return Reply(200, {"data": setting, "meta": meta})

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        made = {"id": f"ntfset_{secrets.token_hex(13)}", "description": body.get("description"),
                "type": body["type"], "destination": body["destination"], "active": True, "api_version": 1,
                "include_sensitive_fields": body.get("include_sensitive_fields", False),
                "subscribed_events": _paddle_subscribed(body["subscribed_events"]),
                "endpoint_secret_key": f"pdl_ntfset_{secrets.token_hex(13)}_{secrets.token_urlsafe(24)}",
                "traffic_source": "platform"}
        self.settings[made["id"]] = made
        return made

    def _events(self, seen: Seen) -> dict[str, Any]:
        ordered = sorted(self.events, key=lambda e: e["event_id"])
        after = seen.query.get("after", [None])[0]
        start = [e["event_id"] for e in ordered].index(after) + 1 if after else 0
        size = self.page_size(seen, "per_page")
        page = ordered[start:start + size]
        more = start + size < len(ordered)
        following = f"{self.base}/events?after={page[-1]['event_id']}&per_page={size}" if page else None
        return {"data": page, "meta": {"request_id": "req_fake", "pagination": {
            "per_page": size, "next": following, "has_more": more, "estimated_total": len(ordered)}}}


    def _simulations(self, seen: Seen, parts: list[str], body: Any) -> Reply:
        meta = {"request_id": "req_fake"}
        if not parts and seen.method == "GET":
            wanted = seen.query.get("notification_setting_id", [None])[0]
            listed = [s for s in self.simulations.values() if wanted in (None, s["notification_setting_id"])]
            return Reply(200, {"data": listed, "meta": {**meta, "pagination": {
                "per_page": 50, "next": None, "has_more": False, "estimated_total": len(listed)}}})
        if not parts and seen.method == "POST":
            if body.get("notification_setting_id") not in self.settings:
                return Reply(404, self.error("notification setting not found"))
            now = _paddle_time(self.clock())
            made = {"id": f"ntfsim_{secrets.token_hex(13)}", "notification_setting_id": body["notification_setting_id"],
                    "name": body["name"], "type": body["type"], "status": "active", "payload": body.get("payload"),
                    "config": None, "created_at": now, "updated_at": now, "last_run_at": None}
            self.simulations[made["id"]] = made
            return Reply(201, {"data": made, "meta": meta})
        simulation = self.simulations.get(parts[0])
        if simulation is None:
            return Reply(404, self.error("simulation not found"))
        if parts[1:] == ["runs"] and seen.method == "POST":
            return Reply(201, {"data": self._run(simulation), "meta": meta})
        if len(parts) == 3 and parts[1] == "runs" and parts[2] in self.runs:
            run = self.runs[parts[2]]
            included = "events" in ",".join(seen.query.get("include", []))
            return Reply(200, {"data": run if included else {k: v for k, v in run.items() if k != "events"},
                               "meta": meta})
        return Reply(404, self.error("not found"))

    def _run(self, simulation: dict[str, Any]) -> dict[str, Any]:
        """A pending run; the demo event goes to the destination after the answer."""
        now = _paddle_time(self.clock())
        run = {"id": f"ntfsimrun_{secrets.token_hex(13)}", "status": "pending", "type": simulation["type"],
               "created_at": now, "updated_at": now, "events": []}
        self.runs[run["id"]] = run
        simulation["last_run_at"] = now
        if self.send_tests:
            self.later(lambda: self._simulate(simulation, run))
        return {k: v for k, v in run.items() if k != "events"}

    def _simulate(self, simulation: dict[str, Any], run: dict[str, Any]) -> int:
        """The notification as Paddle sends it, signed with the destination's endpoint secret key."""
        setting = self.settings[simulation["notification_setting_id"]]
        now = self.clock()
        notification = {"event_id": f"evt_{secrets.token_hex(13)}", "event_type": simulation["type"],
                        "occurred_at": _paddle_time(now), "notification_id": f"ntf_{secrets.token_hex(13)}",
                        "data": paddle_event(int(now) % 10_000, now)["data"]}
        body = json.dumps(notification).encode()
        ts = str(int(now))
        mac = hmac.new(setting["endpoint_secret_key"].encode(), f"{ts}:".encode() + body, hashlib.sha256).hexdigest()
        status = self.transport(setting["destination"], body, {"Content-Type": "application/json",
                                                               "Paddle-Signature": f"ts={ts};h1={mac}"})
        with self.lock:
            run["status"] = "completed"
            run["events"].append({"id": f"ntfsimevt_{secrets.token_hex(13)}",
                                  "status": "success" if 200 <= status < 300 else "failed",
                                  "event_type": simulation["type"], "payload": notification["data"],
                                  "request": {"body": body.decode()},
                                  "response": {"body": "", "status_code": status}})
        return status


def _paddle_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _paddle_subscribed(names: list[str]) -> list[dict[str, Any]]:
    return [{"name": n, "description": n, "group": n.split(".")[0].capitalize(), "available_versions": [1]}
            for n in names]


def paddle_event(index: int, occurred: float) -> dict[str, Any]:
    """A transaction.completed event as /events returns it."""
    when = datetime.fromtimestamp(occurred, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    return {"event_id": f"evt_01fake{index:020d}", "event_type": "transaction.completed", "occurred_at": when,
            "data": {"id": f"txn_01fake{index:020d}", "status": "completed", "currency_code": "EUR",
                     "details": {"totals": {"grand_total": str(1000 + index), "currency_code": "EUR"}},
                     "billed_at": when, "created_at": when}}


# --- serving ----------------------------------------------------------------------------------------------


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(self.command, parsed.path, urllib.parse.parse_qs(parsed.query),
                        self.headers.get("Authorization", ""), self.rfile.read(length) if length else b"",
                        self.headers.get("Idempotency-Key", ""))
            reply = api.handle(seen)
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `api.requests` instead."""

    return Handler


@contextmanager
def serving(api: FakeApi) -> Iterator[str]:
    """The fake on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    if isinstance(api, FakeGithub | FakePaddle):
        api.base = base
    try:
        yield base
    finally:
        stop_serving(server.shutdown, server.server_address[:2])
        server.server_close()
