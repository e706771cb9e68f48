"""Calls per webhook and $ per million webhooks, from a recorded sandbox run (tests.bench.sandboxrun) and the
price table (tests.bench.prices).

Measured in the sandbox: every AWS call the handlers make, per operation; DynamoDB item sizes before and after
each write (so write/read request units, GSI writes included); SQS and PutEvents payload sizes; the log bytes
the functions write; invocations and records per batch; each handler's own CPU time.
Modelled (the ASSUMPTIONS below, printed with the figures): Lambda duration on AWS (own CPU scaled to the
memory's CPU share, plus an assumed round trip per AWS call), API Gateway access-log and WAF-log bytes, X-Ray
sampling at a stated volume, and every fixed monthly cost.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.awscalls import IGNORED, SANDBOX, Call
from tests.bench.prices import MILLION, PRICES, Price

KB, CHUNK = 1024, 64 * 1024
SECONDS_PER_MONTH = 30.4375 * 86400
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "template.json"

ASSUMPTIONS = {
    # Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU. Own CPU time measured here
    # (this machine's core ~ one Graviton2 vCPU, assumed) is scaled by 1769/memory: an upper bound for CPU work.
    "full_vcpu_mb": 1769,
    # Typical same-region round trip of one call from Lambda, ms (assumed, not measured: moto answers in-process).
    "latency_ms": {"dynamodb": 5.0, "sqs": 8.0, "events": 15.0, "secretsmanager": 25.0, "default": 10.0},
    # Bytes of one WAF log record (full request headers, signature headers redacted): assumed.
    "waf_log_bytes": 1500,
    # Monthly volume for X-Ray's sampling (1 request/s reservoir + 5%) and for amortising per-container calls.
    "monthly_webhooks": 10_000_000,
    "xray_reservoir_per_s": 1.0,
    "xray_rate": 0.05,
    # Warm containers that each keep their own secret cache / KMS data keys (receiver reserved concurrency).
    "receiver_containers": 10,
    # Lambda's SQS poller: 5 concurrent long polls (20 s each) while the queue is idle.
    "esm_idle_pollers": 5,
    "log_event_overhead_bytes": 26,
}


# --- item sizes (DynamoDB's rules, approximately) ---------------------------------------------------------------


def value_size(value: dict[str, Any]) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else len(raw) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in raw)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # index hash (and range) key
    projected: tuple[str, ...]  # non-key attributes; ("*",) for ALL
    table_keys: tuple[str, ...]

    def entry(self, item: dict[str, Any] | None) -> dict[str, Any] | None:
        if not item or any(k not in item for k in self.keys):
            return None
        names = set(self.keys) | set(self.table_keys)
        names |= set(item) if self.projected == ("*",) else set(self.projected)
        return {k: item[k] for k in names if k in item}

    def write_units(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
        old, new = self.entry(before), self.entry(after)
        if old == new:
            return 0
        size = lambda e: item_size(e) + 100  # noqa: E731 - an index entry carries 100 bytes of overhead
        if old is None or new is None:
            return write_units(size(old or new))
        if any(old[k] != new[k] for k in self.keys):  # key changed: a delete and a put
            return write_units(size(old)) + write_units(size(new))
        return write_units(max(size(old), size(new)))


def indexes_of(description: dict[str, Any]) -> list[Index]:
    table_keys = tuple(k["AttributeName"] for k in description["KeySchema"])
    found = []
    for gsi in description.get("GlobalSecondaryIndexes", []):
        projection = gsi.get("Projection", {})
        projected = ("*",) if projection.get("ProjectionType") == "ALL" else tuple(
            projection.get("NonKeyAttributes", []))
        found.append(Index(gsi["IndexName"], tuple(k["AttributeName"] for k in gsi["KeySchema"]), projected,
                           table_keys))
    return found


# --- what each call is ------------------------------------------------------------------------------------------


def label(call: Call) -> str:
    """The operation, with what tells its cost apart (a failed conditional write, the item it touches)."""
    name = call.name
    params = call.params
    if call.service == "dynamodb" and call.operation in ("PutItem", "UpdateItem"):
        key = params.get("Key") or params.get("Item") or {}
        target = key.get("webhookId", {}).get("S", "")
        sort = key.get("timestamp", {}).get("S", "")
        what = "payment order" if target.startswith("payment#") else "tombstone" if sort == "tombstone" else "event"
        condition = "conditional" if "ConditionExpression" in params else "unconditional"
        failed = ", condition failed" if call.error_code == "ConditionalCheckFailedException" else ""
        return f"{name} ({what}, {condition}{failed})"
    if call.service == "dynamodb" and call.operation in ("GetItem", "Query"):
        consistent = "consistent" if params.get("ConsistentRead") else "eventual"
        index = f", index {params['IndexName']}" if params.get("IndexName") else ""
        return f"{name} ({consistent}{index})"
    if name == "sqs:ReceiveMessage":
        return f"{name} ({'empty' if not call.result.get('messages') else 'with messages'})"
    return name


SANDBOX_ROLES = (
    # (calls it matches, who makes them on AWS, billed how)
    (lambda c: c.name in ("sqs:DeleteMessageBatch", "sqs:ChangeMessageVisibilityBatch")
     or (c.name == "sqs:ReceiveMessage" and c.result.get("messages")),
     "Lambda's SQS event source mapping", "SQS requests, in your bill"),
    (lambda c: c.name == "sqs:ReceiveMessage",
     "sandbox idle polling (Lambda long-polls instead: a fixed monthly cost)", "not per webhook"),
    (lambda c: c.service == "dynamodbstreams", "Lambda's DynamoDB stream event source mapping", "free"),
    (lambda c: c.service == "logs", "Lambda's log delivery", "per GB ingested, not per call"),
    (lambda c: c.service == "cloudwatch" or c.name == "sqs:GetQueueAttributes",
     "CloudWatch alarm evaluation", "per alarm-month, not per call"),
    (lambda c: True, "other sandbox machinery", "?"),
)


def sandbox_role(call: Call) -> tuple[str, str]:
    return next((who, billed) for match, who, billed in SANDBOX_ROLES if match(call))


# --- measurements of one phase ----------------------------------------------------------------------------------


@dataclass
class Usage:
    """Per webhook of one phase: calls by (origin, label), billable units, and what is modelled from them."""

    webhooks: int
    calls: dict[tuple[str, str], float]
    units: dict[str, float]  # price key -> quantity per webhook
    detail: dict[str, Any]


def measure_phase(phase: Any, run: Any, assumptions: dict[str, Any] = ASSUMPTIONS) -> Usage:
    n = max(1, phase.webhooks)
    calls = [c for c in phase.calls if c.origin != IGNORED or c.service == "logs"]
    by_label: Counter[tuple[str, str]] = Counter()
    for call in calls:
        if call.origin == IGNORED:
            by_label[(SANDBOX, label(call))] += 1  # the bench's flush of the sandbox's log shipper
        else:
            by_label[(call.origin, label(call))] += 1
    sweeping = phase.name == "sweep"  # the sweeper's calls are its own phase's (a fixed cost), never a webhook's
    handler = [c for c in calls if c.origin not in (SANDBOX, IGNORED) and (sweeping or c.origin != "sweeper")]
    wru, rru = _dynamodb_units(handler, run.indexes)
    sqs = sum(math.ceil(max(1, len(c.params.get("MessageBody", "").encode())) / CHUNK)
              for c in handler if c.name == "sqs:SendMessage")
    esm = sum(1 for c in calls if c.origin == SANDBOX and sandbox_role(c)[0] == "Lambda's SQS event source mapping")
    entries = [e for c in handler if c.name == "events:PutEvents" for e in c.params.get("Entries", [])]
    event_bytes = [_entry_size(e) for e in entries]
    logs = _log_bytes(calls, run.log_groups, assumptions["log_event_overhead_bytes"])
    invocations = [i for i in phase.invocations if sweeping or i.role != "sweeper"]
    lambda_s, per_role = _lambda_seconds(invocations, handler, run.memory_mb, assumptions)
    requests = phase.webhooks  # one API Gateway request (and one WAF inspection) per delivery
    access_log = access_log_bytes()
    waf_log = assumptions["waf_log_bytes"]
    traces = _traces(per_role, n, assumptions)
    units = {
        "apigw_rest_request": requests / n,
        "waf_request": requests / n,
        "lambda_request": len(invocations) / n,
        "lambda_arm_gb_second": lambda_s / n,
        "ddb_write_request_unit": wru / n,
        "ddb_read_request_unit": rru / n,
        "sqs_request": (sqs + esm) / n,
        "events_custom_event": sum(math.ceil(b / CHUNK) for b in event_bytes) / n,
        "events_archive_gb": sum(event_bytes) / n / 1e9,
        "logs_ingest_gb": (sum(logs.values()) + requests * (access_log + waf_log)) / n / 1e9,
        "xray_trace_recorded": traces,
    }
    detail = {"log_bytes": {role: b / n for role, b in logs.items()}, "access_log_bytes": access_log,
              "waf_log_bytes": waf_log, "lambda": per_role, "event_bytes": sum(event_bytes) / max(1, len(entries)),
              "sqs_handler": sqs / n, "sqs_esm": esm / n, "wru": wru / n, "rru": rru / n}
    return Usage(phase.webhooks, {k: v / n for k, v in by_label.items()}, units, detail)


def _dynamodb_units(calls: Iterable[Call], indexes: list[Index]) -> tuple[float, float]:
    wru = rru = 0.0
    for call in calls:
        if call.service != "dynamodb":
            continue
        if call.operation in ("PutItem", "UpdateItem", "DeleteItem"):
            after = call.after if call.ok else call.before
            wru += write_units(max(item_size(call.before), item_size(after)))
            if call.ok:
                wru += sum(index.write_units(call.before, call.after) for index in indexes)
        elif call.operation == "GetItem":
            units = max(1, math.ceil(item_size(call.result.get("item")) / (4 * KB)))
            rru += units if call.params.get("ConsistentRead") else units / 2
        elif call.operation == "Query":
            units = max(1, math.ceil(sum(item_size(i) for i in call.result.get("items", [])) / (4 * KB)))
            rru += units if call.params.get("ConsistentRead") else units / 2
    return wru, rru


def _entry_size(entry: dict[str, Any]) -> int:
    """EventBridge's PutEvents entry size: Source, DetailType, Detail and Resources (and 14 bytes for a Time)."""
    return (len(entry.get("Source", "").encode()) + len(entry.get("DetailType", "").encode())
            + len(entry.get("Detail", "").encode()) + sum(len(r.encode()) for r in entry.get("Resources", []))
            + (14 if entry.get("Time") else 0))


def _log_bytes(calls: Iterable[Call], groups: dict[str, str], overhead: int) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    for call in calls:
        if call.name == "logs:PutLogEvents":
            role = groups.get(call.params.get("logGroupName", ""), "other")
            found[role] += sum(len(e["message"].encode()) + overhead for e in call.params.get("logEvents", []))
    return dict(found)


def _lambda_seconds(invocations: list[Any], calls: list[Call], memory: dict[str, int],
                    assumptions: dict[str, Any]) -> tuple[float, dict[str, dict[str, float]]]:
    """GB-seconds on AWS (modelled) and, per role, the figures they come from (measured)."""
    latency = assumptions["latency_ms"]
    per_role: dict[str, dict[str, float]] = {}
    total = 0.0
    for role in sorted({i.role for i in invocations}):
        mine = [i for i in invocations if i.role == role]
        round_trips_ms = sum(latency.get(c.service, latency["default"]) for c in calls if c.origin == role)
        scale = assumptions["full_vcpu_mb"] / memory.get(role, 256)
        own_ms = sum(i.own_cpu_s for i in mine) * 1000
        # Billed per invocation, rounded up to 1 ms: spread the round trips over the invocations evenly.
        billed_ms = sum(math.ceil(i.own_cpu_s * 1000 * scale + round_trips_ms / len(mine)) for i in mine)
        gb_s = billed_ms / 1000 * memory.get(role, 256) / 1024
        total += gb_s
        per_role[role] = {"invocations": len(mine), "records": sum(i.records for i in mine),
                          "own_cpu_ms": own_ms / len(mine),
                          "sandbox_wall_ms": sum(i.wall_s for i in mine) * 1000 / len(mine),
                          "aws_ms": round_trips_ms / len(mine), "billed_ms": billed_ms / len(mine),
                          "memory_mb": memory.get(role, 256), "gb_s": gb_s}
    return total, per_role


def sampled_fraction(per_second: float, assumptions: dict[str, Any] = ASSUMPTIONS) -> float:
    """X-Ray's default rule: the first request each second, then 5% of the rest."""
    if per_second <= 0:
        return 0.0
    reservoir = min(per_second, assumptions["xray_reservoir_per_s"])
    return (reservoir + assumptions["xray_rate"] * max(0.0, per_second - reservoir)) / per_second


def _traces(per_role: dict[str, dict[str, float]], webhooks: int, assumptions: dict[str, Any]) -> float:
    """Traces recorded per webhook: each function's invocations sampled at their own rate (the receiver's trace
    starts at API Gateway, whose sampling decision the function follows)."""
    rate = assumptions["monthly_webhooks"] / SECONDS_PER_MONTH
    traces = 0.0
    for figures in per_role.values():
        per_webhook = figures["invocations"] / webhooks
        traces += per_webhook * sampled_fraction(rate * per_webhook, assumptions)
    return traces


def access_log_bytes(template: Path = GOLDEN) -> int:
    """One access-log line of the stage's own format, filled with typical values."""
    stage = next(r for r in json.loads(template.read_text())["Resources"].values()
                 if r["Type"] == "AWS::ApiGateway::Stage")
    typical = {"httpMethod": "POST", "integrationLatency": "42", "identity.sourceIp": "54.187.174.169",
               "responseLatency": "45", "path": "/live/webhook/stripe",
               "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
               "requestTimeEpoch": "1733270400123", "resourcePath": "/webhook/{provider}", "responseLength": "72",
               "status": "200", "waf.status": "200", "xrayTraceId": "1-67500000-abcdef0123456789abcdef01"}
    log_format = stage["Properties"]["AccessLogSetting"]["Format"]
    line = re.sub(r"\$context\.([\w.]+)", lambda m: typical.get(m[1], "-"), log_format)
    return len(line.encode()) + ASSUMPTIONS["log_event_overhead_bytes"]


# --- storage (per webhook, over its retention) -------------------------------------------------------------------


def storage_units(items: list[dict[str, Any]], indexes: list[Index], webhooks: int, event_days: int,
                  tombstone_days: int) -> dict[str, float]:
    """GB-months each webhook occupies while it is kept: items (+100 B each) and their index entries."""
    gb_months = 0.0
    for item in items:
        size = item_size(item) + 100 + sum(item_size(e) + 100 for x in indexes if (e := x.entry(item)))
        days = tombstone_days if item.get("timestamp", {}).get("S") == "tombstone" else event_days
        gb_months += size / 1e9 * days / (SECONDS_PER_MONTH / 86400)
    per = gb_months / max(1, webhooks)
    return {"ddb_storage_gb_month": per, "ddb_pitr_gb_month": per}


# --- dollars -----------------------------------------------------------------------------------------------------


def dollars_per_million(units: dict[str, float], prices: dict[str, Price] = PRICES) -> dict[str, float]:
    """$ per million webhooks for each price key, from the quantity one webhook uses."""
    return {key: quantity * prices[key].each * MILLION for key, quantity in units.items()}


def fixed_monthly(run: Any, sweep: Usage | None, assumptions: dict[str, Any] = ASSUMPTIONS,
                  prices: dict[str, Price] = PRICES) -> list[tuple[str, float, str]]:
    """(item, $/month, how it is counted): what the stack costs with no traffic, or independent of it."""
    template = json.loads(GOLDEN.read_text())["Resources"]
    of = lambda kind: [r["Properties"] for r in template.values() if r["Type"] == kind]  # noqa: E731
    acl = of("AWS::WAFv2::WebACL")
    rules = sum(len(a["Rules"]) for a in acl)
    alarm_metrics = sum(1 if "MetricName" in a else sum(1 for m in a.get("Metrics", []) if "MetricStat" in m)
                        for a in of("AWS::CloudWatch::Alarm"))
    month = SECONDS_PER_MONTH
    # SQS's formula R = B/D*(2P+C): producers receiver and sweeper, consumer processor
    queues_kms = month / 300 * (2 * 2 + 1)
    secret_reads = assumptions["receiver_containers"] * month / 300  # one GetSecretValue per container per cache TTL
    table_kms = month / 300 * 4  # DynamoDB re-checks the table key about every 5 min per caller role (4 roles)
    sweeps = month / (5 * 60)
    idle_receives = assumptions["esm_idle_pollers"] * month / 20
    p = lambda key: prices[key].each  # noqa: E731
    items = [
        ("WAF web ACL", len(acl) * p("waf_web_acl_month"), f"{len(acl)} web ACL"),
        ("WAF rules", rules * p("waf_rule_month"), f"{rules} rules (2 AWS managed groups + rate rule)"),
        ("KMS key", len(of("AWS::KMS::Key")) * p("kms_key_month"), "one customer managed key"),
        ("KMS requests by SQS", queues_kms * p("kms_request"), f"{queues_kms:,.0f}/month: data key reuse 300 s"),
        ("KMS requests by DynamoDB", table_kms * p("kms_request"), f"{table_kms:,.0f}/month (modelled)"),
        ("Secrets Manager secret", len(of("AWS::SecretsManager::Secret")) * p("secret_month"), "one secret"),
        ("GetSecretValue + its KMS Decrypt", secret_reads * (p("secrets_api_call") + p("kms_request")),
         f"{secret_reads:,.0f}/month: {assumptions['receiver_containers']} containers, 300 s cache"),
        ("CloudWatch alarms", alarm_metrics * p("cw_alarm_metric_month"), f"{alarm_metrics} alarm metrics"),
        ("CloudWatch dashboard", len(of("AWS::CloudWatch::Dashboard")) * p("cw_dashboard_month"),
         "free if among the account's first 3"),
        ("custom metrics (EMF)", run.custom_metrics * p("cw_custom_metric_month"),
         f"{run.custom_metrics} metrics seen in the sandbox run"),
        ("SQS idle long polls by Lambda", idle_receives * p("sqs_request"),
         f"{idle_receives:,.0f}/month: {assumptions['esm_idle_pollers']} pollers x 20 s waits"),
    ]
    if sweep is not None:
        per_sweep = sum(dollars_per_million(sweep.units).values()) / MILLION
        items.append(("sweeper every 5 min", sweeps * per_sweep, f"{sweeps:,.0f} runs, measured calls per run"))
    return items
