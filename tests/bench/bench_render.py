"""Start-up as a user pays it, whole processes in one run: each command against a bare `python -c pass` measured
alongside (the ratio is the figure; milliseconds differ 2x between machines), and render's peak RSS."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.bench.measure import median_ms, run_process, verdict

RUNS = 9
# (arguments, largest ratio to a bare interpreter start): issue #13's targets.
CASES = ((["render"], 4), (["render", "--format", "json"], 3), (["--help"], 3), (["dlq", "--help"], 3),
         (["dlq", "stats", "--help"], 3), (["alarms", "--help"], 3), (["alarms", "status", "--help"], 3))
RSS_LIMIT_MB = 40


def run() -> list[str]:
    exe = shutil.which("webhookctl", path=str(Path(sys.executable).parent)) or "webhookctl"
    cases = [(["python -c pass"], [sys.executable, "-c", "pass"], None), *(
        ([f"webhookctl {' '.join(args)}"], [exe, *args], limit) for args, limit in CASES)]
    samples: dict[str, list[tuple[float, float]]] = {label[0]: [] for label, _, _ in cases}
    for _ in range(RUNS):  # interleaved, so a busy moment hits every case alike
        for (label,), argv, _ in cases:
            samples[label].append(run_process(argv))
    bare = median_ms([wall for wall, _ in samples["python -c pass"]])
    lines = [f"{'python -c pass':<34} median {bare:6.1f} ms (the baseline, {RUNS} runs each, interleaved)"]
    for (label,), _, limit in cases[1:]:
        wall = median_ms([w for w, _ in samples[label]])
        rss = max(r for _, r in samples[label])
        ratio = wall / bare
        line = f"{label:<34} median {wall:6.1f} ms = {ratio:4.1f}x bare [{verdict(ratio, limit)} <= {limit}x]"
        if label.startswith("webhookctl render"):
            line += f"   peak RSS {rss:5.1f} MB [{verdict(rss, RSS_LIMIT_MB)} <= {RSS_LIMIT_MB}]"
        lines.append(line)
    return lines
