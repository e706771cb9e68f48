"""The sandbox's API Gateway: an HTTP server on 127.0.0.1 that runs the receiver for POST /webhook/{provider}."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from webhookctl.tryit import apigw
from webhookctl.tryit.edge_limits import Edge
from webhookctl.tryit.pollers import Invoke
from webhookctl.tryit.serving import stop_serving

# API Gateway's payload limit; larger requests never reach the function.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Exchange:
    """One request through the gateway, for the console and for tracking webhooks end to end."""

    provider: str | None
    status: int
    body: bytes
    latency_ms: float
    received_at: float
    headers: tuple[tuple[str, str], ...] = ()


class Gateway:
    """Serves until stop(); each request runs the receiver in its own thread, as concurrent Lambdas would.

    `edge` (the WAF rate rule and the stage's throttle) refuses requests before they reach the receiver;
    None admits all. `clock` (wall time) and `random_hex` make request times and trace ids."""

    def __init__(self, invoke: Invoke, *, port: int = 0, api_id: str = "local",
                 on_exchange: Callable[[Exchange], None] = lambda exchange: None, edge: Edge | None = None,
                 clock: Callable[[], float] = time.time,
                 random_hex: Callable[[int], str] = secrets.token_hex) -> None:
        self.invoke, self.api_id, self.on_exchange, self.edge = invoke, api_id, on_exchange, edge
        self.clock, self.random_hex = clock, random_hex
        self.server = _Server(("127.0.0.1", port), _handler_class(self))
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        """The base that `send` appends a provider to."""
        return f"http://127.0.0.1:{self.port}/webhook/"

    def start(self) -> Gateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            stop_serving(self.server.shutdown, self.server.server_address[:2])
        self.server.server_close()

    def handle(self, request: apigw.Request) -> apigw.Response:
        """The answer, carrying the request id and the X-Ray trace the request was given (or continued)."""
        request_id = str(uuid.uuid4())
        root = apigw.trace_root(request.headers) or apigw.new_trace_root(self.clock(), self.random_hex)
        response = self._answer(apigw.with_trace(request, root), request_id)
        return replace(response, headers=[*response.headers, ("x-amzn-RequestId", request_id),
                                          (apigw.TRACE_HEADER, f"Root={root}")])

    def _answer(self, request: apigw.Request, request_id: str) -> apigw.Response:
        refusal = self.edge.refuse(request.source_ip) if self.edge is not None else None
        if refusal is not None:
            return refusal
        provider = apigw.route(request)
        if provider is None:
            return apigw.gateway_error(403, "Missing Authentication Token")
        event = apigw.proxy_event(request, provider, request_id=request_id,
                                  now_ms=int(self.clock() * 1000), api_id=self.api_id)
        invocation = self.invoke(event)
        if invocation.error is not None:
            return apigw.gateway_error(502, "Internal server error")
        return apigw.http_response(invocation.result)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # senders burst with --count; the default backlog of 5 drops connections


def _handler_class(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "webhookctl-sandbox"

        def _serve(self) -> None:
            started, provider = time.perf_counter(), None
            length, refusal = _body_length(self.headers)
            if refusal is not None:
                self.close_connection = True
                self._discard(length)  # read what was sent, so the client sees the answer, not a reset
                response = refusal
            else:
                request = apigw.Request(self.command, self.path, list(self.headers.items()),
                                        self.rfile.read(length), self.client_address[0],
                                        self.headers.get("Host", "127.0.0.1"))
                provider = apigw.route(request)
                response = gateway.handle(request)
            self._write(response)
            gateway.on_exchange(Exchange(provider, response.status, response.body,
                                         (time.perf_counter() - started) * 1000, time.time(),
                                         tuple(response.headers)))

        def _discard(self, length: int) -> None:
            while length > 0 and (chunk := self.rfile.read(min(length, 1 << 16))):
                length -= len(chunk)

        def _write(self, response: apigw.Response) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass  # the sandbox prints its own one-line summary per webhook

    return Handler


def _body_length(headers: Any) -> tuple[int, apigw.Response | None]:
    """(bytes to read, or to discard when refused; the refusal API Gateway would give, or None)."""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return 0, apigw.gateway_error(411, "Length Required")
    raw = headers.get("Content-Length") or "0"
    if not raw.isdigit():
        return 0, apigw.gateway_error(400, "Invalid Content-Length")
    length = int(raw)
    if length > MAX_PAYLOAD_BYTES:
        return length, apigw.gateway_error(413, "Request Too Long")
    return length, None
