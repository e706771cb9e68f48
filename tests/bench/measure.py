"""Shared measuring helpers for the bench modules: whole-process wall time and peak RSS."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Sequence

# A child's ru_maxrss starts from its parent's high-water mark (Linux carries it across fork and exec), so a
# big bench process would inflate every figure: a tiny launcher (python -S) spawns and measures instead.
LAUNCHER = """
import os, sys, time
quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=quiet)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_process(argv: Sequence[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of argv (argv[0] a path); raises if it fails."""
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *argv], env=env, capture_output=True,
                          text=True, check=True)
    wall, max_rss_kb, code = done.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    return float(wall), int(max_rss_kb) / 1024


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def verdict(value: float, limit: float, higher_is_better: bool = False) -> str:
    ok = value >= limit if higher_is_better else value <= limit
    return "ok" if ok else "OVER TARGET"
