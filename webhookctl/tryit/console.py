"""What `local up` shows per webhook: the gateway's answer, the audit lines, and a one-line summary when
the webhook reaches a final status. Whole lines only, to the real terminal (handlers' output is captured).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from webhookctl.edge.jsondoc import json_object
from webhookctl.handlers.webhook_common.contract import acknowledged
from webhookctl.tryit.functions import LocalFunction


class Tracker:
    """Turns gateway exchanges, invocations and stream records into the console's per-webhook lines."""

    def __init__(self, show: Callable[[str, str], None] | None, clock: Callable[[], float] = time.time) -> None:
        self.show, self.clock = show, clock
        self.received: dict[str, float] = {}
        self._lock = threading.Lock()

    def exchange(self, exchange: Any) -> None:
        ids, duplicate = acknowledged(dict(exchange.headers)) or ([], False)
        if ids and not duplicate:
            with self._lock:
                for webhook in ids:
                    self.received[webhook] = exchange.received_at - exchange.latency_ms / 1000
        if self.show:
            answer = json_object(exchange.body) or {}
            detail = "duplicate" if duplicate else answer.get("error") or answer.get("message") or ""
            self.show("http", f"POST {exchange.provider or '?'} -> {exchange.status} {','.join(ids)} "
                              f"{detail} ({exchange.latency_ms:.1f} ms)".replace("  ", " "))

    def invoked(self, function: LocalFunction, invocation: Any) -> None:
        if not self.show:
            return
        for line in invocation.log_lines:
            if function.name.startswith("webhook-audit") or _is_problem(line, function.name):
                self.show("audit" if function.name.startswith("webhook-audit") else "error", line)

    def records(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            line = self.summary(record)
            if line and self.show:
                self.show("done", line)
                if published := published_line(record["dynamodb"].get("NewImage") or {}):
                    self.show("bus", published)

    def summary(self, record: dict[str, Any]) -> str | None:
        """`stripe payment_intent.succeeded PROCESSED 84 ms` when a webhook reaches a final status."""
        new = record["dynamodb"].get("NewImage") or {}
        old = record["dynamodb"].get("OldImage") or {}
        status = new.get("status", {}).get("S")
        if status not in ("PROCESSED", "IGNORED") or old.get("status", {}).get("S") == status:
            return None
        webhook = new.get("webhookId", {}).get("S", "?")
        with self._lock:
            started = self.received.pop(webhook, None)
        latency = f"{(self.clock() - started) * 1000:.0f} ms" if started else "(redelivered)"
        provider, event_type = new.get("provider", {}).get("S", "?"), new.get("eventType", {}).get("S", "?")
        return f"{provider} {event_type} {status} {latency}"


# ISO 4217 currencies whose minor unit is not a hundredth (the rest have two decimals).
MINOR_DIGITS = {**dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND",
                                 "VUV", "XAF", "XOF", "XPF"), 0),
                **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3)}


def published_line(item: dict[str, Any]) -> str | None:
    """`payment_succeeded stripe 20.00 USD pi_123` for an item whose event went to the bus (stale ones marked)."""
    if "publishedAt" not in item:
        return None
    text = {k: v.get("S") or v.get("N") or "" for k, v in item.items() if isinstance(v, dict)}
    amount = text.get("amount", "")
    if amount and text.get("currency"):
        digits = MINOR_DIGITS.get(text["currency"].upper(), 2)
        amount = f"{int(amount) / 10 ** digits:.{digits}f} {text['currency'].upper()}"
    parts = [text.get("category", "?"), text.get("provider", "?"), amount, text.get("paymentId", "")]
    stale = " (stale: a newer event of this payment was published first)" if item.get("stale", {}).get("BOOL") else ""
    return " ".join(p for p in parts if p) + stale


def _is_problem(line: str, function: str) -> bool:
    """Errors and tracebacks, the processor's failed records (each one a step towards the DLQ) and the
    sweeper's finds; the receiver's rejections already show on the gateway's line."""
    failed_record = '"level":"WARNING"' in line and function.startswith(("webhook-processor", "webhook-sweeper"))
    return failed_record or '"level":"ERROR"' in line or not line.startswith("{")


def edge_notes(limits: Any, *, enforced: bool, loopback_trusted: bool) -> list[str]:
    """What the gateway does at the edge, said once at startup: the limits it enforces (and where they come
    from), how it counts loopback, and that AWS's managed WAF rule groups are not emulated."""
    if not enforced:
        return ["edge limits off: the gateway applies neither the stage throttle nor the WAF rate rule"]
    lines = [limits.describe()]
    if loopback_trusted and limits.waf_limit is not None:
        lines.append("  127.0.0.1 is treated as a provider's address (as trusted_cidrs would list it): the WAF "
                     "rate rule does not count it; the stage throttle does")
    groups = ", ".join(limits.managed_rule_groups) or "none in this template"
    lines.append(f"  AWS managed WAF rule groups are not emulated ({groups}): no request is blocked by them")
    return lines


def console(stream: Any = None) -> Callable[[str, str], None]:
    """show(kind, line) writing to the real terminal, one whole line at a time."""
    lock = threading.Lock()
    out = stream or sys.__stdout__
    marks = {"http": "->", "audit": "  audit", "done": "ok", "bus": "  -> bus", "error": "!!"}

    def show(kind: str, line: str) -> None:
        with lock:
            out.write(f"{marks.get(kind, kind)} {line}\n")
            out.flush()

    return show
