"""Shared measuring helpers for the bench modules: whole-process wall time and peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence


def run_process(argv: Sequence[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of argv; raises if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}")
    return wall, usage.ru_maxrss / 1024


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def verdict(value: float, limit: float, higher_is_better: bool = False) -> str:
    ok = value >= limit if higher_is_better else value <= limit
    return "ok" if ok else "OVER TARGET"
