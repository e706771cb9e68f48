"""The receiver Lambda: API Gateway REST `POST /webhook/{provider}` → verified, stored once, enqueued.

Answers (never a stack trace, a secret or an echo of the payload):
405 not POST · 404 unknown or unconfigured provider (the same answer for both: a stranger learns nothing
about which providers a merchant uses) · 413 body over 256 KiB · 401 missing or invalid signature, or
stale timestamp · 400 body not UTF-8 JSON, no event id, or an event older than the replay window · 500
an AWS call failed or the function is misconfigured (the provider retries) · 200 `{"received": true,
"webhookId", "duplicate"}` (Adyen: `[accepted]`, as it expects), with the same facts in the
`X-Webhookctl-Ids` and `X-Webhookctl-Duplicate` headers for every provider (`contract.acknowledgement`).
Nothing unverified is written anywhere: no item, no message, no log line with the body.

Idempotent, replay-proof and lossless: the design
-------------------------------------------------
1. Identity, from signed bytes only. `webhookId = "{provider}#{eventId}"` with the provider's own event id
   where its signature covers it (Stripe `evt_…`, Square `event_id`, the Standard Webhooks `webhook-id`),
   and the signed body's digest where the only id travels in an unsigned header (Razorpay, GitHub): a
   captured body re-sent under fresh header ids is the same event, and a replay cannot claim the id of a
   later genuine event. Adyen batches are split: one stored event per NotificationRequestItem, keyed by
   its eventCode, pspReference, success and merchant account, so `[A]`, `[A, A]` or a reordered batch
   are the same events. The table's sort key holds one fixed value (`contract.ITEM_TIMESTAMP`), so an
   event has exactly one possible key and `attribute_not_exists(webhookId)` is a per-event uniqueness
   check. The item keeps the digest of its signed bytes: the same id with a different body is logged as
   a conflict (the first one stays) and answered as a duplicate.
2. Replays after the item expired. Where the provider signs the event's time (body or signature header),
   an event older than the retention window (event_ttl_days) minus a day is refused. Where it signs no
   time at all (Adyen, GitHub), a payload-free tombstone (key + digest) outlives the event
   (replay_guard_days), and an event whose tombstone exists but whose item does not is a replay.
3. Store, then enqueue, then mark. A new event is written with `status = RECEIVED` (card numbers masked
   in its payload; verification already ran on the raw bytes), its key is sent to the processing queue,
   and the item is moved `RECEIVED → ENQUEUED` under the condition `status = RECEIVED`.
4. Redeliveries. If the conditional put fails, the item exists. If its status is still RECEIVED, an
   earlier attempt may have died between storing and enqueueing, so the key is enqueued again (then
   marked). Any other status means it is on the queue or done: nothing is sent. Either way: duplicate.
5. Acknowledge last. 200 is returned only after every event of the request is stored and its key is on
   the queue. Any AWS failure before that answers 500, so the provider redelivers and step 4 completes the
   work. A failure of the final mark alone still answers 200.
6. Exactly-once effect. Copies of a key on the queue are absorbed by the processor, which writes
   PROCESSED/IGNORED under the condition `status IN (RECEIVED, ENQUEUED)`: exactly one writer wins.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from webhook_common import contract, logs, metrics, runtime
from webhook_common.contract import metrics as metric_names
from webhook_common.contract import store
from webhook_common.contract.environment import ConfigError
from webhook_common.contract.secrets import SecretsDocumentError
from webhook_common.providers import PROVIDERS, Provider
from webhook_common.redact import mask_cards
from webhook_common.secrets import ProviderSecrets, SecretsCache
from webhook_common.verification import ProviderConfigError, VerificationError

MAX_BODY_BYTES = 256 * 1024
# base64 inflates by 4/3; anything longer than this cannot decode to an acceptable body.
MAX_ENCODED_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4
# After a failed verification, re-read the signing secret (a rotation may be in flight), at most this often.
SECRET_REFRESH_MIN_AGE = 30
# An event older than the retention window minus this is refused: its first copy may already be gone.
REPLAY_MARGIN = 86400
DAY = 86400
RETRY_LATER = {"error": "temporarily unable to accept the webhook; retry later"}
UNKNOWN_PROVIDER = "unknown provider"


class Reject(Exception):
    """A request the receiver refuses with a 4xx; the message is safe to return."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass(frozen=True)
class Request:
    provider: str
    headers: dict[str, str]  # names lower-cased
    body: bytes  # the exact bytes the provider signed
    url: str  # where the request arrived (Square signs its notification URL)


@dataclass(frozen=True)
class Event:
    webhook_id: str
    event_id: str
    event_type: str
    provider: str
    payload: str  # JSON, card numbers masked
    digest: str  # sha256 of the signed bytes it came in
    tombstone: bool  # the provider signs no time: keep a tombstone
    unsigned_id: str | None = None
    source: str | None = None  # None: the provider delivered it; "reconcile": fetched from its API


@dataclass(frozen=True)
class Deps:
    dynamodb: Any
    sqs: Any
    secrets: SecretsCache
    config: runtime.ReceiverConfig
    clock: Callable[[], float] = time.time


def handler(event: dict, context: Any) -> dict:
    with logs.bound(**logs.invocation(context, trace_header(event))):
        try:
            deps = Deps(runtime.dynamodb(), runtime.sqs(), runtime.signing_secrets(), runtime.receiver_config())
        except ConfigError as error:
            logs.log("ERROR", "receiver misconfigured", error=str(error))
            return respond(500, RETRY_LATER)
        return receive(event, deps)


def trace_header(event: dict) -> str | None:
    """The X-Ray trace API Gateway started for this request (it passes it on as X-Amzn-Trace-Id)."""
    headers = event.get("headers") or {}
    return next((v for k, v in headers.items() if k.lower() == "x-amzn-trace-id" and isinstance(v, str)), None)


def receive(event: dict, deps: Deps) -> dict:
    """The whole request, then one metric line saying how it was answered, per provider."""
    response = answer_request(event, deps)
    provider = metrics.provider_dimension((event.get("pathParameters") or {}).get("provider"))
    metrics.emit(outcome_counts(response), {metric_names.STACK: deps.config.stack_name,
                                            metric_names.PROVIDER: provider}, rollups=((metric_names.STACK,),))
    return response


def outcome_counts(response: dict) -> dict[str, int]:
    """The request's answer as counts: events accepted and duplicated, or why it was refused."""
    status = response["statusCode"]
    # (an Adyen batch counts as duplicates only when every item was one)
    ids, duplicate = contract.acknowledged(response.get("headers") or {}) or ([], False)
    return {
        metric_names.ACCEPTED: 0 if duplicate else len(ids),
        metric_names.DUPLICATES: len(ids) if duplicate else 0,
        metric_names.SIGNATURE_REJECTED: int(status == 401),
        metric_names.REJECTED: int(400 <= status < 500 and status != 401),
        metric_names.SERVER_ERRORS: int(status >= 500),
    }


def answer_request(event: dict, deps: Deps) -> dict:
    """parse → provider → verify → identify → store and enqueue → answer."""
    try:
        request = parse_request(event)
        provider, secrets = resolve(request.provider, deps.secrets)
        verify(provider, secrets, request, deps)
        events = identify(provider, request, deps)
        duplicates = [store_and_enqueue(stored, deps) for stored in events]
    except Reject as reject:
        logs.log("WARNING", "rejected", status=reject.status, reason=reject.message)
        return respond(reject.status, {"error": reject.message}, reject.headers)
    except (BotoCoreError, ClientError) as error:
        logs.log("ERROR", "AWS call failed; answering 500 so the provider retries", error=aws_error(error))
        return respond(500, RETRY_LATER)
    except (ProviderConfigError, SecretsDocumentError) as error:
        logs.log("ERROR", "signing secret is misconfigured", error=str(error))
        return respond(500, RETRY_LATER)
    except Exception as error:  # noqa: BLE001 - the provider must get a clean 500 and retry, never a trace
        # Only the type and frames: an exception message could quote unverified input.
        logs.log("ERROR", "unexpected failure", errorType=type(error).__name__,
                 frames=traceback.format_tb(error.__traceback__))
        return respond(500, RETRY_LATER)
    for stored, duplicate in zip(events, duplicates, strict=True):
        logs.log("INFO", "accepted", webhookId=stored.webhook_id, provider=stored.provider,
                 eventType=stored.event_type, duplicate=duplicate)
    return accepted(provider, events, duplicates)


def parse_request(event: dict) -> Request:
    if event.get("httpMethod") != "POST":
        raise Reject(405, "only POST is accepted", {"Allow": "POST"})
    name = (event.get("pathParameters") or {}).get("provider")
    if name not in PROVIDERS:
        raise Reject(404, UNKNOWN_PROVIDER)
    body = decode_body(event.get("body") or "", bool(event.get("isBase64Encoded")))
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
    return Request(name, headers, body, request_url(event, headers))


def decode_body(body: str, is_base64: bool) -> bytes:
    """The exact bytes sent: base64-decoded when API Gateway says so, never re-serialised."""
    if len(body) > (MAX_ENCODED_CHARS if is_base64 else MAX_BODY_BYTES):
        raise Reject(413, "body exceeds 256 KiB")
    try:
        raw = base64.b64decode(body, validate=True) if is_base64 else body.encode("utf-8")
    except (binascii.Error, ValueError):
        raise Reject(400, "body is not valid base64") from None
    if len(raw) > MAX_BODY_BYTES:
        raise Reject(413, "body exceeds 256 KiB")
    return raw


def request_url(event: dict, headers: dict[str, str]) -> str:
    context = event.get("requestContext") or {}
    host = context.get("domainName") or headers.get("host")
    path = context.get("path") or event.get("path") or ""
    return f"https://{host}{path}" if host else ""


def resolve(name: str, secrets: SecretsCache) -> tuple[Provider, ProviderSecrets]:
    entry = secrets.get(name)
    if entry is None:
        raise Reject(404, UNKNOWN_PROVIDER)
    return PROVIDERS[name], entry


def verify(provider: Provider, entry: ProviderSecrets, request: Request, deps: Deps) -> None:
    """401 unless a secret verifies; on failure, one early re-read of the secret covers a fresh rotation."""
    now = int(deps.clock())
    try:
        _check(provider, entry, request, now)
    except VerificationError as first:
        fresh = deps.secrets.refresh(request.provider, SECRET_REFRESH_MIN_AGE)
        if fresh is None or fresh == entry:
            raise Reject(401, str(first)) from None
        try:
            _check(provider, fresh, request, now)
        except VerificationError as error:
            raise Reject(401, str(error)) from None


def _check(provider: Provider, entry: ProviderSecrets, request: Request, now: int) -> None:
    options = {"requestUrl": request.url, **entry.options}
    provider.verify(request.headers, request.body, entry.secrets, options, now)


def identify(provider: Provider, request: Request, deps: Deps) -> list[Event]:
    """The request's events (one, or one per Adyen item), each identified by signed content only."""
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Reject(400, "body is not UTF-8 JSON") from None
    parts = provider.split(payload)
    if not parts:
        raise Reject(400, "no event id in the webhook")
    check_age(provider, payload, request.headers, deps)
    return [_event(provider, part, request, request.body if len(parts) == 1 else _canonical(part))
            for part in parts]


def _canonical(part: Any) -> bytes:
    return json.dumps(part, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _event(provider: Provider, part: Any, request: Request, signed: bytes) -> Event:
    event_id = provider.event_id(part, request.headers, signed)
    webhook = contract.webhook_id(provider.name, event_id)
    if webhook is None:
        raise Reject(400, "no event id in the webhook")
    event_type = contract.event_type_text(provider.event_type(part, request.headers))
    payload = json.dumps(mask_cards(part), separators=(",", ":"), ensure_ascii=False)
    unsigned = provider.unsigned_id(request.headers)
    return Event(webhook, str(event_id), event_type, provider.name, payload, hashlib.sha256(signed).hexdigest(),
                 provider.signed_time is None, unsigned[:contract.MAX_EVENT_ID_LENGTH] if unsigned else None)


def check_age(provider: Provider, payload: Any, headers: dict[str, str], deps: Deps) -> None:
    """400 for an event whose signed time is older than the retention window minus a margin: its first copy
    may already have expired, so storing it could process it a second time."""
    if provider.signed_time is None:
        return
    signed = provider.signed_time(payload, headers)
    window = deps.config.event_ttl_days * DAY - REPLAY_MARGIN
    if signed is not None and deps.clock() - signed > window:
        raise Reject(400, f"event is older than the {deps.config.event_ttl_days}-day replay window")


def store_and_enqueue(event: Event, deps: Deps) -> bool:
    """Steps 2-5 of the design; returns whether the event had been seen before (a duplicate)."""
    if event.tombstone and _expired_replay(event, deps):
        return True
    try:
        deps.dynamodb.put_item(TableName=deps.config.table_name, Item=new_item(event, deps),
                               ConditionExpression="attribute_not_exists(webhookId)",
                               ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        old = stored_item(error, event, deps)
        if old.get(contract.BODY_DIGEST, {}).get("S", event.digest) != event.digest:
            logs.log("WARNING", "same event id, different signed body: the first one stays",
                     webhookId=event.webhook_id)
        if old.get(contract.STATUS, {}).get("S") != contract.RECEIVED:
            return True
        duplicate = True  # stored by an attempt that may never have enqueued it: enqueue now
    else:
        duplicate = False
    if event.tombstone:
        put_tombstone(event, deps)
    enqueue(event, deps)
    return duplicate


def _expired_replay(event: Event, deps: Deps) -> bool:
    """The tombstone outlives the item: a tombstone without its item means the event expired after it was
    processed, and this is a replay. One consistent query reads both sort keys of the event's partition."""
    found = deps.dynamodb.query(
        TableName=deps.config.table_name, ConsistentRead=True, KeyConditionExpression="webhookId = :id",
        ExpressionAttributeValues={":id": {"S": event.webhook_id}}, ProjectionExpression="#t",
        ExpressionAttributeNames={"#t": "timestamp"}).get("Items", [])
    sort_keys = {item["timestamp"]["S"] for item in found}
    if sort_keys == {contract.TOMBSTONE_TIMESTAMP}:
        logs.log("WARNING", "replay of an event that expired after processing: refused", webhookId=event.webhook_id)
        return True
    return False


def new_item(event: Event, deps: Deps) -> dict[str, dict[str, str]]:
    now = deps.clock()
    received_at = contract.item_time(now)
    return {
        **key(event.webhook_id),
        "provider": {"S": event.provider},
        "eventId": {"S": event.event_id},
        "providerEventId": {"S": event.unsigned_id or event.event_id},
        "eventType": {"S": event.event_type},
        contract.STATUS: {"S": contract.RECEIVED},
        contract.RECEIVED_AT: {"S": received_at},
        contract.PAYLOAD: {"S": event.payload},
        contract.BODY_DIGEST: {"S": event.digest},
        contract.TTL_ATTRIBUTE: {"N": str(int(now) + deps.config.event_ttl_days * DAY)},
        # The two indexes (contract.store): listed by provider and time; pending until it is enqueued.
        store.LIST_KEY: {"S": store.list_key(event.provider, now, event.webhook_id)},
        store.LIST_SORT: {"S": store.list_sort(received_at, event.webhook_id)},
        store.PENDING_KEY: {"S": store.pending_key(event.webhook_id)},
        **({contract.SOURCE: {"S": event.source}} if event.source else {}),
    }


def put_tombstone(event: Event, deps: Deps) -> None:
    """Key and digest only (no payload), kept replay_guard_days: idempotent, so a redelivery may rewrite it."""
    deps.dynamodb.put_item(TableName=deps.config.table_name, Item={
        **key(event.webhook_id, contract.TOMBSTONE_TIMESTAMP),
        contract.BODY_DIGEST: {"S": event.digest},
        contract.TTL_ATTRIBUTE: {"N": str(int(deps.clock()) + deps.config.replay_guard_days * DAY)}})


def stored_item(error: ClientError, event: Event, deps: Deps) -> dict[str, Any]:
    old = error.response.get("Item")  # ReturnValuesOnConditionCheckFailure=ALL_OLD
    if old is None:
        old = deps.dynamodb.get_item(TableName=deps.config.table_name, Key=key(event.webhook_id), ConsistentRead=True,
                                     ProjectionExpression="#s, #d",
                                     ExpressionAttributeNames={"#s": contract.STATUS, "#d": contract.BODY_DIGEST},
                                     ).get("Item", {})
    return old


def enqueue(event: Event, deps: Deps) -> None:
    message = contract.queue_message(event.webhook_id, contract.ITEM_TIMESTAMP, event.provider, event.event_type,
                                     trace=logs.current().get("traceId"))
    deps.sqs.send_message(QueueUrl=deps.config.queue_url, **message)
    try:
        deps.dynamodb.update_item(
            TableName=deps.config.table_name,
            Key=key(event.webhook_id),
            UpdateExpression=f"SET #s = :enqueued, enqueuedAt = :now REMOVE {store.PENDING_KEY}",
            ConditionExpression="#s = :received",
            ExpressionAttributeNames={"#s": contract.STATUS},
            ExpressionAttributeValues={
                ":enqueued": {"S": contract.ENQUEUED},
                ":received": {"S": contract.RECEIVED},
                ":now": {"S": contract.item_time(deps.clock())},
            },
        )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":  # else: the processor already finished it
            _log_unmarked(event, error)
    except BotoCoreError as error:
        _log_unmarked(event, error)


def _log_unmarked(event: Event, error: Exception) -> None:
    logs.log("WARNING", "enqueued but not marked ENQUEUED; a redelivery would enqueue it again",
             webhookId=event.webhook_id, error=aws_error(error))


def key(webhook_id: str, sort_key: str = contract.ITEM_TIMESTAMP) -> dict[str, dict[str, str]]:
    return {"webhookId": {"S": webhook_id}, "timestamp": {"S": sort_key}}


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def aws_error(error: Exception) -> str:
    """Operation and code only: AWS messages can quote item values."""
    if isinstance(error, ClientError):
        return f"{error.operation_name}: {error_code(error)}"
    return type(error).__name__


def accepted(provider: Provider, events: list[Event], duplicates: list[bool]) -> dict:
    """200 once every event is stored and enqueued: the provider's expected body, and the facts in headers."""
    ids, duplicate = [e.webhook_id for e in events], all(duplicates)
    headers = contract.acknowledgement(ids, duplicate)
    if provider.accepted_body is not None:
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain", **headers},
                "body": provider.accepted_body}
    return respond(200, {"received": True, "webhookId": ids[0], "duplicate": duplicate}, headers)


def respond(status: int, body: dict, headers: dict[str, str] | None = None) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
    }
