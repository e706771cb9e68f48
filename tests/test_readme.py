"""The README's quick start, run as a new user would type it: `make render`, then `make local` in one shell and
the commands of the next block in another. Only the blocks that need an AWS account (or are this test run,
`make test`) are left out."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
pytestmark = pytest.mark.slow


def quick_start_blocks() -> list[str]:
    """The `sh` blocks of the Quick start section, in order."""
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def block_starting(command: str) -> str:
    [block] = [b for b in quick_start_blocks() if b.startswith(command)]
    return block


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_quick_start_blocks_are_the_ones_this_test_runs() -> None:
    # a new block must be run here or consciously left out
    firsts = [block.split()[0:2] for block in quick_start_blocks()]
    assert firsts == [["make", "render"], [".venv/bin/webhookctl", "bootstrap"], ["make", "local"],
                      ["source", ".venv/bin/activate"]]


def test_make_render_prints_the_template() -> None:
    [line] = [line for line in block_starting("make render").splitlines() if line.startswith("make render")]
    result = subprocess.run(line.split("#")[0].split(), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "AWSTemplateFormatVersion" in result.stdout and "PaymentWebhooks-dev" in result.stdout


def test_make_local_then_the_second_shells_commands_work_as_written(tmp_path: Path) -> None:
    # GIVEN terminal 1, exactly as written (its state file in a directory of this test's own)
    if not port_is_free(8765):
        pytest.skip("127.0.0.1:8765 is taken (a `make local` of yours?): the README's sandbox needs it")
    environment = {**os.environ, "WEBHOOKCTL_STATE_DIR": str(tmp_path)}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        environment.pop(name, None)
    terminal_1 = subprocess.Popen(block_starting("make local").split("#")[0].split(), cwd=ROOT, env=environment,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "local.json").exists():
            assert terminal_1.poll() is None, terminal_1.stderr.read()
            assert time.monotonic() < deadline, "the sandbox did not come up in 60 s"
            time.sleep(0.1)
        # WHEN terminal 2's block runs line by line in bash, stopping at the first failure
        terminal_2 = subprocess.run(["bash", "-e", "-c", block_starting("source")], cwd=ROOT, env=environment,
                                    capture_output=True, text=True, timeout=120)
        # THEN every line worked: both events sent, then listed, and the DLQ is empty
        assert terminal_2.returncode == 0, terminal_2.stderr
        assert re.search(r"stripe payment_intent.succeeded .*\[ok\]", terminal_2.stdout), terminal_2.stdout
        assert re.search(r"adyen REFUND .*\[ok\]", terminal_2.stdout), terminal_2.stdout
        assert "stripe" in terminal_2.stdout.split("[ok]")[-1] and "adyen" in terminal_2.stdout.split("[ok]")[-1]
    finally:
        # and Ctrl-C in terminal 1 stops the sandbox cleanly
        os.killpg(terminal_1.pid, signal.SIGINT)
        terminal_1.wait(timeout=30)
    assert not (tmp_path / "local.json").exists()

