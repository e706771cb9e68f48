"""Webhooks per provider from the stack's own metrics: what the receiver answered, what the processor finished,
how long it took end to end, and a trend of what was accepted. One GetMetricData call (all pages) for all of it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from webhookctl.edge.errors import UsageError
from webhookctl.edge.output import table
from webhookctl.handlers.webhook_common.contract import metrics as names
from webhookctl.handlers.webhook_common.contract.names import PROVIDERS

# The receiver names a path of no known provider "unknown": its refusals are figures too.
SHOWN_PROVIDERS = (*PROVIDERS, "unknown")
TOTAL = "all"  # the Stack-only rollup every handler also emits
COUNTS = (names.ACCEPTED, names.DUPLICATES, names.SIGNATURE_REJECTED, names.REJECTED, names.SERVER_ERRORS,
          names.PROCESSED, names.FAILED)
PERCENTILES = ("p50", "p99")
BARS = "▁▂▃▄▅▆▇█"
TREND_COLUMNS = 20  # --period auto: about this many periods in the window
MIN_PERIOD = 60  # CloudWatch keeps the handlers' (standard-resolution) metrics per minute


@dataclass(frozen=True)
class ProviderStats:
    provider: str
    accepted: int
    duplicates: int
    signature_rejected: int
    rejected: int  # any other 4XX
    server_errors: int
    processed: int
    failed: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    accepted_per_period: tuple[int, ...]

    @property
    def seen(self) -> bool:
        return any((self.accepted, self.duplicates, self.signature_rejected, self.rejected, self.server_errors,
                    self.processed, self.failed))

    @property
    def sparkline(self) -> str:
        return sparkline(self.accepted_per_period)

    def as_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": {"signature": self.signature_rejected, "other": self.rejected},
                "serverErrors": self.server_errors, "processed": self.processed, "failed": self.failed,
                "latencyP50Ms": self.latency_p50_ms, "latencyP99Ms": self.latency_p99_ms,
                "acceptedPerPeriod": list(self.accepted_per_period), "sparkline": self.sparkline}


@dataclass(frozen=True)
class StatsReport:
    stack: str
    start: float  # epoch seconds, aligned to the period
    end: float
    period_seconds: int
    providers: tuple[ProviderStats, ...]  # only those with any figure, in the contract's order
    total: ProviderStats

    @property
    def empty(self) -> bool:
        """No webhook reached the stack in the window: not an error, but nothing to tabulate."""
        return not self.total.seen and not self.providers

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "start": _iso(self.start), "end": _iso(self.end),
                "periodSeconds": self.period_seconds, "providers": [p.as_dict() for p in self.providers],
                "total": self.total.as_dict()}

    def as_text(self) -> str:
        rows = [_row(p) for p in self.providers] + [_row(self.total)]
        return table(("PROVIDER", "ACCEPTED", "DUPLICATES", "BAD SIGNATURE", "OTHER 4XX", "5XX", "PROCESSED",
                      "FAILED", "P50 MS", "P99 MS", f"ACCEPTED PER {_duration(self.period_seconds)}"), rows)


def _row(p: ProviderStats) -> tuple[object, ...]:
    return (p.provider, p.accepted, p.duplicates, p.signature_rejected, p.rejected, p.server_errors, p.processed,
            p.failed, _ms(p.latency_p50_ms), _ms(p.latency_p99_ms), p.sparkline)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def sparkline(values: Iterable[float]) -> str:
    """One bar per period, scaled to the busiest; any traffic at all shows above an idle period's bar."""
    values = list(values)
    top = max(values, default=0)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[0] if v <= 0 else BARS[max(1, math.ceil(v / top * (len(BARS) - 1)))] for v in values)


def choose_period(window_s: float, period: str = "auto") -> int:
    """--period: `auto` (about TREND_COLUMNS periods, whole minutes) or a duration of whole minutes (5m, 1h)."""
    if period == "auto":
        return max(MIN_PERIOD, math.ceil(int(window_s) / TREND_COLUMNS / 60) * 60)  # (whole seconds: 1h is 1h)
    from webhookctl.operate.logs import parse_since

    # the durations --since takes, read as "that long before the epoch"; an ISO time comes out negative
    seconds = -parse_since(period, 0, option="--period") // 1000
    if seconds < MIN_PERIOD or seconds % 60:
        raise UsageError(f"--period {period!r}: say auto, or whole minutes (1m, 5m, 1h): the stack's metrics "
                         "are kept per minute")
    return seconds


def stack_stats(cloudwatch: Any, stack_name: str, start_s: float, now: float, period: str = "auto") -> StatsReport:
    """Every provider's figures between start_s and now, from one GetMetricData call (all its pages)."""
    if start_s >= now:
        raise UsageError("--since must be in the past")
    seconds = choose_period(now - start_s, period)
    start = math.floor(start_s / seconds) * seconds  # CloudWatch answers whole periods from an aligned start
    columns = max(1, math.ceil((now - start) / seconds))
    end = start + columns * seconds
    queries, meaning = metric_queries(stack_name, seconds, end - start)
    values = fetch(cloudwatch, queries, start, end)
    per = {p: _provider_stats(p, meaning, values, start, seconds, columns) for p in (*SHOWN_PROVIDERS, TOTAL)}
    return StatsReport(stack_name, start, end, seconds, tuple(per[p] for p in SHOWN_PROVIDERS if per[p].seen),
                       per[TOTAL])


def metric_queries(stack_name: str, period: int, window: int) -> tuple[list[dict[str, Any]], dict[str, tuple]]:
    """The queries, and what each id means: (provider, metric, stat). Counts per period (for the trend);
    percentiles over the whole window in one period, since percentiles of periods cannot be combined."""
    queries, meaning = [], {}
    for provider in (*SHOWN_PROVIDERS, TOTAL):
        dimensions = [{"Name": names.STACK, "Value": stack_name}]
        if provider != TOTAL:
            dimensions.append({"Name": names.PROVIDER, "Value": provider})
        asked = [(metric, "Sum", period) for metric in COUNTS]
        asked += [(names.END_TO_END_LATENCY, stat, window) for stat in PERCENTILES]
        for metric, stat, seconds in asked:
            query_id = f"q{len(queries)}"  # ids must start with a lower-case letter
            meaning[query_id] = (provider, metric, stat)
            queries.append({"Id": query_id, "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": names.NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                "Period": seconds, "Stat": stat}})
    return queries, meaning


def fetch(cloudwatch: Any, queries: list[dict[str, Any]], start: float, end: float) -> dict[str, list[tuple]]:
    """id -> [(epoch seconds, value)], every page merged (a long window's values span several)."""
    found: dict[str, list[tuple[float, float]]] = {}
    pages = cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=datetime.fromtimestamp(start, UTC),
        EndTime=datetime.fromtimestamp(end, UTC), ScanBy="TimestampAscending")
    for page in pages:
        for result in page.get("MetricDataResults", []):
            points = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            found.setdefault(result["Id"], []).extend((when.timestamp(), value) for when, value in points)
    return found


def _provider_stats(provider: str, meaning: dict[str, tuple], values: dict[str, list[tuple]], start: float,
                    period: int, columns: int) -> ProviderStats:
    mine = {(metric, stat): values.get(query_id, []) for query_id, (who, metric, stat) in meaning.items()
            if who == provider}
    totals = {metric: int(sum(v for _, v in mine[(metric, "Sum")])) for metric in COUNTS}
    trend = [0] * columns
    for when, value in mine[(names.ACCEPTED, "Sum")]:
        trend[min(max(int((when - start) // period), 0), columns - 1)] += int(value)
    latency = {stat: _first(mine[(names.END_TO_END_LATENCY, stat)]) for stat in PERCENTILES}
    return ProviderStats(provider, totals[names.ACCEPTED], totals[names.DUPLICATES],
                         totals[names.SIGNATURE_REJECTED], totals[names.REJECTED], totals[names.SERVER_ERRORS],
                         totals[names.PROCESSED], totals[names.FAILED], latency["p50"], latency["p99"],
                         tuple(trend))


def _first(points: list[tuple[float, float]]) -> float | None:
    """The window's one percentile value (the window is one period); none when nothing was processed."""
    return round(points[0][1], 1) if points else None
