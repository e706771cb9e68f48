"""Packaging with a warm layer cache (target 0.5 s) and a no-op `webhookctl deploy` against the local
emulator as a whole process (target 3 s wall, zero S3 uploads)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.measure import verdict

PACKAGE_RUNS = 5
DEPLOY_RUNS = 3


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        return [*_packaging(Path(tmp)), *_noop_redeploy(Path(tmp))]


def _packaging(tmp: Path) -> list[str]:
    from webhookctl.building.packaging import package_all

    package_all(tmp / "cold", cache_dir=tmp / "cache")  # fills the layer cache
    samples = []
    for n in range(PACKAGE_RUNS):
        started = time.perf_counter()
        package_all(tmp / f"warm-{n}", cache_dir=tmp / "cache")
        samples.append(time.perf_counter() - started)
    wall = statistics.median(samples)
    return [f"package_all, warm layer cache      median {wall * 1000:7.1f} ms [{verdict(wall, 0.5)} <= 500 ms]"]


def _noop_redeploy(tmp: Path) -> list[str]:
    from webhookctl.tryit.emulator import start_emulator

    exe = shutil.which("webhookctl", path=str(Path(sys.executable).parent)) or "webhookctl"
    with start_emulator() as emulator:
        env = {**os.environ, "AWS_ENDPOINT_URL": emulator.url, "AWS_ACCESS_KEY_ID": "bench",
               "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
               "XDG_CACHE_HOME": str(tmp / "xdg")}
        env.pop("AWS_PROFILE", None)
        first, _ = _deploy(exe, env)
        samples = [_deploy(exe, env) for _ in range(DEPLOY_RUNS)]
    wall = statistics.median(s[0] for s in samples)
    uploads = sorted({s[1] for s in samples})
    return [f"first deploy (creates the stack)   {first:7.2f} s",
            f"no-op redeploy, whole process      median {wall:5.2f} s [{verdict(wall, 3.0)} <= 3 s]   "
            f"S3 uploads per run: {','.join(map(str, uploads))} [{verdict(max(uploads), 0)} == 0]"]


def _deploy(exe: str, env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([exe, "deploy", "--suffix", "bench", "--yes"], env=env, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"webhookctl deploy exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, sum(line.startswith("uploaded s3://") for line in done.stderr.splitlines())
