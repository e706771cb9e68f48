"""`webhookctl render` as a whole process: median wall time and peak RSS (targets 0.35 s, 80 MB)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.bench.measure import median_ms, run_process, verdict

RUNS = 15


def run() -> list[str]:
    exe = shutil.which("webhookctl", path=str(Path(sys.executable).parent)) or "webhookctl"
    lines = []
    for args in (["render"], ["render", "--format", "json"], ["--help"]):
        samples = [run_process([exe, *args]) for _ in range(RUNS)]
        wall = median_ms([s[0] for s in samples])
        rss = max(s[1] for s in samples)
        lines.append(f"webhookctl {' '.join(args):<22} median {wall:6.1f} ms "
                     f"[{verdict(wall, 350)} <= 350]   peak RSS {rss:5.1f} MB [{verdict(rss, 80)} <= 80]")
    return lines
