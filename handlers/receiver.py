"""The receiver Lambda: API Gateway REST `POST /webhook/{provider}` → verified, stored once, enqueued.

Answers (JSON bodies, never a stack trace, a secret or an echo of the payload):
405 not POST · 404 unknown or unconfigured provider · 413 body over 256 KiB · 401 missing or invalid
signature, or stale timestamp · 400 body not UTF-8 JSON, or no event id · 500 an AWS call failed or the
function is misconfigured (the provider retries) · 200 `{"received": true, "webhookId", "duplicate"}`.
Nothing unverified is written anywhere: no item, no message, no log line with the body.

Idempotent and lossless: the design
-----------------------------------
1. Identity. `webhookId = "{provider}#{eventId}"` with the provider's own event id (Stripe `evt_…`, the
   Standard Webhooks `webhook-id`, Square `event_id`, ...), which is the same on every redelivery whatever
   its new signature or timestamp. The table's sort key `timestamp` holds one fixed value
   (`contract.ITEM_TIMESTAMP`), never the receipt time, so an event has exactly one possible key and
   `attribute_not_exists(webhookId)` on PutItem is a per-event uniqueness check. (The provider's event time
   would also be stable, but one fixed value cannot be defeated by a provider that varies it; receipt and
   event times live in `receivedAt` and, after processing, `occurredAt`.)
2. Store, then enqueue, then mark. A new event is written with `status = RECEIVED` under that condition,
   its key is sent to the processing queue, and the item is moved `RECEIVED → ENQUEUED` under the condition
   `status = RECEIVED` (if the processor already finished it, that update is simply skipped).
3. Redeliveries. If the conditional put fails, the item exists. If its status is still RECEIVED, the
   earlier attempt may have died or failed between storing and enqueueing, so the key is enqueued again
   (then marked). Any other status means it is on the queue or done: nothing is sent. Either way the answer
   is 200 with `duplicate: true`.
4. Acknowledge last. 200 is returned only after the item is stored and its key is on the queue (now or by
   an earlier attempt whose ENQUEUED mark proves it). Any AWS failure before that answers 500, so the
   provider redelivers and step 3 completes the work. A failure of the final mark alone still answers 200:
   the message is on the queue, and the item left RECEIVED only means a redelivery enqueues once more.
5. Exactly-once effect. Redelivery during the RECEIVED window, and concurrent duplicate deliveries, can put
   the same key on the queue twice. The processor absorbs that: it writes PROCESSED/IGNORED under the
   condition `status IN (RECEIVED, ENQUEUED)`, so exactly one writer wins and later copies are skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from webhook_common import contract, logs, runtime
from webhook_common.contract.environment import ConfigError
from webhook_common.contract.secrets import SecretsDocumentError
from webhook_common.providers import PROVIDERS, Provider
from webhook_common.secrets import ProviderSecrets, SecretsCache
from webhook_common.verification import ProviderConfigError, VerificationError

MAX_BODY_BYTES = 256 * 1024
# base64 inflates by 4/3; anything longer than this cannot decode to an acceptable body.
MAX_ENCODED_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4
# After a failed verification, re-read the signing secret (a rotation may be in flight), at most this often.
SECRET_REFRESH_MIN_AGE = 30
RETRY_LATER = {"error": "temporarily unable to accept the webhook; retry later"}


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
    payload: str


@dataclass(frozen=True)
class Deps:
    dynamodb: Any
    sqs: Any
    secrets: SecretsCache
    config: runtime.ReceiverConfig
    clock: Callable[[], float] = time.time


def handler(event: dict, context: Any) -> dict:
    try:
        deps = Deps(runtime.dynamodb(), runtime.sqs(), runtime.signing_secrets(), runtime.receiver_config())
    except ConfigError as error:
        logs.log("ERROR", "receiver misconfigured", error=str(error))
        return respond(500, RETRY_LATER)
    return receive(event, deps)


def receive(event: dict, deps: Deps) -> dict:
    """The whole request: parse → provider → verify → identify → store and enqueue → answer."""
    try:
        request = parse_request(event)
        provider, secrets = resolve(request.provider, deps.secrets)
        verify(provider, secrets, request, deps)
        stored = identify(provider, request)
        duplicate = store_and_enqueue(stored, deps)
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
        logs.log(
            "ERROR",
            "unexpected failure",
            errorType=type(error).__name__,
            frames=traceback.format_tb(error.__traceback__),
        )
        return respond(500, RETRY_LATER)
    logs.log("INFO", "accepted", webhookId=stored.webhook_id, eventType=stored.event_type, duplicate=duplicate)
    return respond(200, {"received": True, "webhookId": stored.webhook_id, "duplicate": duplicate})


def parse_request(event: dict) -> Request:
    if event.get("httpMethod") != "POST":
        raise Reject(405, "only POST is accepted", {"Allow": "POST"})
    name = (event.get("pathParameters") or {}).get("provider")
    if name not in PROVIDERS:
        raise Reject(404, "unknown provider")
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
        raise Reject(404, "provider is not configured")
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


def identify(provider: Provider, request: Request) -> Event:
    try:
        text = request.body.decode("utf-8")
        payload = json.loads(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Reject(400, "body is not UTF-8 JSON") from None
    event_id = provider.event_id(payload, request.headers)
    webhook = contract.webhook_id(provider.name, event_id)
    if webhook is None:
        raise Reject(400, "no event id in the webhook")
    event_type = contract.event_type_text(provider.event_type(payload, request.headers))
    return Event(webhook, str(event_id), event_type, provider.name, text)


def store_and_enqueue(event: Event, deps: Deps) -> bool:
    """Steps 2-4 of the design; returns whether the event had been stored before (a duplicate)."""
    table = deps.config.table_name
    try:
        deps.dynamodb.put_item(
            TableName=table,
            Item=new_item(event, deps),
            ConditionExpression="attribute_not_exists(webhookId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        if stored_status(error, event, deps) != contract.RECEIVED:
            return True
        duplicate = True  # stored by an attempt that may never have enqueued it: enqueue now
    else:
        duplicate = False
    enqueue(event, deps)
    return duplicate


def new_item(event: Event, deps: Deps) -> dict[str, dict[str, str]]:
    now = deps.clock()
    return {
        **key(event.webhook_id),
        "provider": {"S": event.provider},
        "eventId": {"S": event.event_id},
        "eventType": {"S": event.event_type},
        "status": {"S": contract.RECEIVED},
        "receivedAt": {"S": contract.item_time(now)},
        "payload": {"S": event.payload},
        contract.TTL_ATTRIBUTE: {"N": str(int(now) + deps.config.event_ttl_days * 86400)},
    }


def stored_status(error: ClientError, event: Event, deps: Deps) -> str | None:
    old = error.response.get("Item")  # ReturnValuesOnConditionCheckFailure=ALL_OLD
    if old is None:
        old = deps.dynamodb.get_item(
            TableName=deps.config.table_name,
            Key=key(event.webhook_id),
            ConsistentRead=True,
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "status"},
        ).get("Item", {})
    return old.get("status", {}).get("S")


def enqueue(event: Event, deps: Deps) -> None:
    message = contract.queue_message(event.webhook_id, contract.ITEM_TIMESTAMP, event.provider, event.event_type)
    deps.sqs.send_message(QueueUrl=deps.config.queue_url, **message)
    try:
        deps.dynamodb.update_item(
            TableName=deps.config.table_name,
            Key=key(event.webhook_id),
            UpdateExpression="SET #s = :enqueued, enqueuedAt = :now",
            ConditionExpression="#s = :received",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":enqueued": {"S": contract.ENQUEUED},
                ":received": {"S": contract.RECEIVED},
                ":now": {"S": contract.item_time(deps.clock())},
            },
        )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":  # else: the processor already finished it
            logs.log(
                "WARNING",
                "enqueued but not marked ENQUEUED; a redelivery would enqueue it again",
                webhookId=event.webhook_id,
                error=aws_error(error),
            )
    except BotoCoreError as error:
        logs.log(
            "WARNING",
            "enqueued but not marked ENQUEUED; a redelivery would enqueue it again",
            webhookId=event.webhook_id,
            error=aws_error(error),
        )


def key(webhook_id: str) -> dict[str, dict[str, str]]:
    return {"webhookId": {"S": webhook_id}, "timestamp": {"S": contract.ITEM_TIMESTAMP}}




def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def aws_error(error: Exception) -> str:
    """Operation and code only: AWS messages can quote item values."""
    if isinstance(error, ClientError):
        return f"{error.operation_name}: {error_code(error)}"
    return type(error).__name__


def respond(status: int, body: dict, headers: dict[str, str] | None = None) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
    }
