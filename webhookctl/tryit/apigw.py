"""HTTP request <-> API Gateway REST proxy event and Lambda proxy result. Pure: no sockets, no clock.

The event has the shape API Gateway sends to an AWS_PROXY integration for `POST /webhook/{provider}`:
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

RESOURCE = "/webhook/{provider}"
ROUTE = re.compile(r"^/webhook/(?P<provider>[^/]+)/?$")
STAGE = "live"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query string, as on the request line
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    host: str


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def route(request: Request) -> str | None:
    """The provider path parameter, or None when API Gateway has no such method (it answers 403)."""
    match = ROUTE.match(urlsplit(request.target).path)
    return match["provider"] if match and request.method == "POST" else None


def proxy_event(request: Request, provider: str, *, request_id: str, now_ms: int, api_id: str) -> dict[str, Any]:
    """The REST proxy event for REQUEST, with the body base64-encoded when it is not UTF-8 text."""
    parts = urlsplit(request.target)
    body, is_base64 = _body(request.body)
    query = parse_qsl(parts.query, keep_blank_values=True)
    return {
        "resource": RESOURCE, "path": parts.path, "httpMethod": request.method,
        "headers": {name: value for name, value in request.headers} or None,
        "multiValueHeaders": _multi(request.headers) or None,
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": _multi(query) or None,
        "pathParameters": {"provider": provider}, "stageVariables": None,
        "requestContext": _context(request, parts.path, request_id=request_id, now_ms=now_ms, api_id=api_id),
        "body": body, "isBase64Encoded": is_base64,
    }


def _body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), True


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return values


def _context(request: Request, path: str, *, request_id: str, now_ms: int, api_id: str) -> dict[str, Any]:
    user_agent = next((v for k, v in request.headers if k.lower() == "user-agent"), None)
    when = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return {
        "accountId": ACCOUNT, "apiId": api_id, "resourceId": "local", "resourcePath": RESOURCE,
        "httpMethod": request.method, "stage": STAGE, "path": f"/{STAGE}{path}", "protocol": "HTTP/1.1",
        "requestId": request_id, "extendedRequestId": request_id, "requestTime": when,
        "requestTimeEpoch": now_ms, "domainName": request.host, "domainPrefix": request.host.split(".")[0],
        "identity": {"sourceIp": request.source_ip, "userAgent": user_agent, "caller": None, "user": None,
                     "accessKey": None, "accountId": None, "cognitoIdentityId": None},
    }


def http_response(result: Any) -> Response:
    """The HTTP response API Gateway makes of a Lambda proxy result; a malformed one is a 502."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return gateway_error(502, "Internal server error")
    body = result.get("body") or ""
    if not isinstance(body, str):
        return gateway_error(502, "Internal server error")
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    return Response(result["statusCode"], headers, data)


def gateway_error(status: int, message: str, error_type: str | None = None) -> Response:
    """API Gateway's own JSON error responses (403 for a missing route or a WAF block, 429 throttled, 502 for a
    failed integration), with its x-amzn-ErrorType header when ERROR_TYPE is given."""
    headers = [("Content-Type", "application/json"), *([("x-amzn-ErrorType", error_type)] if error_type else [])]
    return Response(status, headers, json.dumps({"message": message}, separators=(",", ":")).encode())


# --- X-Ray: API Gateway starts (or continues) a trace per request and passes it on as X-Amzn-Trace-Id

TRACE_HEADER = "X-Amzn-Trace-Id"
TRACE_ROOT = re.compile(r"(?:^|;)\s*Root=(1-[0-9a-f]{8}-[0-9a-f]{24})(?:;|$)")


def new_trace_root(now_s: float, random_hex: Callable[[int], str]) -> str:
    """An X-Ray trace id: 1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>."""
    return f"1-{int(now_s) & 0xFFFFFFFF:08x}-{random_hex(12)}"


def trace_root(headers: Sequence[tuple[str, str]]) -> str | None:
    """The Root of a well-formed X-Amzn-Trace-Id the caller sent (API Gateway continues that trace), else None."""
    value = next((v for k, v in headers if k.lower() == TRACE_HEADER.lower()), "")
    match = TRACE_ROOT.search(value)
    return match[1] if match else None


def with_trace(request: Request, root: str) -> Request:
    """REQUEST with exactly one X-Amzn-Trace-Id, naming ROOT, as the integration receives it."""
    headers = [(k, v) for k, v in request.headers if k.lower() != TRACE_HEADER.lower()]
    return replace(request, headers=[*headers, (TRACE_HEADER, f"Root={root}")])
