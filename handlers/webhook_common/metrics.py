"""CloudWatch embedded metric format: a metric is one JSON line on stdout, which CloudWatch Logs turns into a
metric with no API call (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html). Names come from contract.metrics."""

from __future__ import annotations

import json
import sys
import time

from .contract import metrics as names
from .contract.names import PROVIDERS


def provider_dimension(name: str | None) -> str:
    """Only known names become a dimension: a stranger's path must not mint metrics (each one is billed)."""
    return name if name in PROVIDERS else "unknown"


def emit(values: dict[str, float | list[float]], dimensions: dict[str, str], unit: str = "Count",
         rollups: tuple[tuple[str, ...], ...] = (), units: dict[str, str] | None = None) -> None:
    """One EMF line: every value under the same dimensions (the stack's name among them), and also under each
    rollup (a subset of them): CloudWatch never sums a metric across dimensions, so an alarm on the stack's
    total needs its own series. A list is many samples of one metric (EMF takes up to 100 per line), which
    percentiles need; `units` names the unit of a metric that is not `unit`."""
    units = units or {}
    line = {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": names.NAMESPACE, "Dimensions": [sorted(dimensions), *(sorted(r) for r in rollups)],
            "Metrics": [{"Name": name, "Unit": units.get(name, unit)} for name in values]}]},
        **dimensions, **values,
    }
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
