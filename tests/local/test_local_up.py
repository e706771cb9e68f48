"""`webhookctl local up` as a user runs it: a process with no AWS credentials, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

WEBHOOKCTL = [sys.executable, "-m", "webhookctl"]


def no_aws_environment(state_dir: Path, tmp_path: Path) -> dict[str, str]:
    """The caller's environment minus every AWS variable; config and credential files point nowhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    missing = str(tmp_path / "no-such-aws-file")
    return {**env, "AWS_CONFIG_FILE": missing, "AWS_SHARED_CREDENTIALS_FILE": missing,
            "AWS_EC2_METADATA_DISABLED": "true", "WEBHOOKCTL_STATE_DIR": str(state_dir)}


class Lines:
    """A subprocess's stdout, line by line, waited on with a deadline (a sandbox that stops printing fails the
    test with what it did print, instead of hanging it)."""

    def __init__(self, stream) -> None:
        self.seen: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def until(self, done, timeout: float = 30) -> list[str]:
        """Lines up to and including the first for which done(line) holds."""
        deadline, taken = time.monotonic() + timeout, []
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"no such line within {timeout} s; printed:\n{''.join(self.seen)}") from None
            if line is None:
                raise AssertionError(f"the process ended; printed:\n{''.join(self.seen)}")
            self.seen.append(line)
            taken.append(line)
            if done(line):
                return taken


def start_sandbox(tmp_path: Path, env: dict[str, str], *args: str, **popen) -> tuple[subprocess.Popen, Lines]:
    """`local up` with stderr to a file: a pipe nobody reads would fill and stop the sandbox mid-write."""
    errors = (tmp_path / "sandbox.stderr").open("w")
    process = subprocess.Popen([*WEBHOOKCTL, "local", "up", "--port", "0", *args], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=errors, text=True, **popen)
    return process, Lines(process.stdout)


def stderr_of(tmp_path: Path) -> str:
    return (tmp_path / "sandbox.stderr").read_text()


@pytest.mark.slow
def test_local_up_without_credentials_serves_webhooks_and_stops_cleanly_on_ctrl_c(tmp_path):
    state_dir = tmp_path / "state"
    env = no_aws_environment(state_dir, tmp_path)
    started = time.monotonic()
    process, stdout = start_sandbox(tmp_path, env)
    try:
        banner = stdout.until(lambda line: line.startswith("Ctrl-C"))  # the banner ends with the Ctrl-C hint
        assert banner[0].startswith("sandbox ready in "), "".join(banner) + stderr_of(tmp_path)
        state = json.loads((state_dir / "local.json").read_text())
        assert f"webhooks:  POST {state['webhook_url']}{{provider}}\n" in banner
        assert any(line.startswith("stripe    whsec_") for line in banner)

        # WHEN another process sends through it (reading the state file) and asks the emulator about it
        sent = subprocess.run([*WEBHOOKCTL, "send", "--local", "-p", "square", "--duplicate"], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        dlq = subprocess.run([*WEBHOOKCTL, "--local", "dlq", "stats", "--suffix", "local"], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert (sent.returncode, sent.stdout.count("[ok]"), '"duplicate":true' in sent.stdout) == (0, 2, True), \
            sent.stdout + sent.stderr
        assert (dlq.returncode, dlq.stdout.splitlines()[0].split()[:2]) == (0, ["QUEUE", "VISIBLE"]), dlq.stderr
        root_flag = subprocess.run([*WEBHOOKCTL, "--local", "send", "-p", "paddle", "--type", "dispute"], env=env,
                                   cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert (root_flag.returncode, root_flag.stdout.count("[ok]")) == (0, 1), root_flag.stdout + root_flag.stderr
        status = subprocess.run([*WEBHOOKCTL, "local", "status"], env=env, cwd=tmp_path, capture_output=True,
                                text=True, timeout=60)
        assert (status.returncode, status.stdout.startswith(f"sandbox pid {process.pid}: ")) == (0, True)
        # and the sandbox shows the webhook's summary line once it is processed
        summary = stdout.until(lambda line: line.startswith("ok square "))[-1]
        assert " PROCESSED " in summary, stderr_of(tmp_path)
        # ...and what it published to the bus
        published = stdout.until(lambda line: line.startswith("  -> bus "))[-1]
        assert " square " in published, "".join(stdout.seen)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert (process.returncode, stderr_of(tmp_path).rstrip().splitlines()[-1]) == (0, "stopped")
    assert not (state_dir / "local.json").exists()
    assert time.monotonic() - started < 60


def test_local_up_on_a_busy_port_says_so_and_exits_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*WEBHOOKCTL, "local", "up", "--port", str(port)],
                                env=no_aws_environment(tmp_path, tmp_path), cwd=tmp_path, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 2
    assert f"port {port} is in use: pass --port N, or --port 0 for any free port" in result.stderr


def test_local_up_on_another_moto_than_the_pinned_one_refuses_before_starting_and_exits_2(tmp_path):
    from webhookctl.tryit.emulator import pinned_moto

    other = "5.0.0"
    script = ("import importlib.metadata as m, sys; real = m.version; "
              f"m.version = lambda name: {other!r} if name == 'moto' else real(name); "
              "sys.argv = ['webhookctl', 'local', 'up', '--port', '0']; from webhookctl.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", script], env=no_aws_environment(tmp_path, tmp_path),
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"the sandbox's patches to moto are for moto {pinned_moto()}, and moto {other} is installed" in \
        result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "local.json").exists()  # no state file: nothing was started


def test_the_pinned_moto_is_setup_cfgs_and_the_one_installed():
    import configparser
    from importlib import metadata

    from webhookctl.tryit.emulator import pinned_moto

    setup = configparser.ConfigParser()
    setup.read(Path(__file__).parents[2] / "setup.cfg")
    (line,) = [r for r in setup["options.extras_require"]["local"].split("\n") if r.startswith("moto")]
    assert line == f"moto[server]=={pinned_moto()}"
    assert metadata.version("moto") == pinned_moto()


def test_send_local_without_a_sandbox_says_how_to_start_one(tmp_path):
    result = subprocess.run([*WEBHOOKCTL, "send", "--local", "-p", "stripe"],
                            env=no_aws_environment(tmp_path / "none", tmp_path), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no local sandbox found" in result.stderr and "webhookctl local up" in result.stderr


def test_local_down_with_a_stale_state_file_removes_it(tmp_path):
    from webhookctl.tryit.state import LocalState, write_state

    dead = subprocess.Popen(["true"])  # a pid that has exited and been reaped
    dead.wait()
    write_state(LocalState("http://127.0.0.1:1", "http://127.0.0.1:2/webhook/", "local", "us-east-1", dead.pid),
                tmp_path / "local.json")
    result = subprocess.run([*WEBHOOKCTL, "local", "down"], env=no_aws_environment(tmp_path, tmp_path),
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert f"the sandbox (pid {dead.pid}) was not running" in result.stderr
    assert not (tmp_path / "local.json").exists()


@pytest.mark.slow
def test_local_down_stops_a_sandbox_started_in_the_background(tmp_path):
    # GIVEN a sandbox started as `&` in a script starts it: with SIGINT ignored
    state_dir = tmp_path / "state"
    env = no_aws_environment(state_dir, tmp_path)
    process, stdout = start_sandbox(tmp_path, env, "--quiet",
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert stdout.until(lambda line: True)[0].startswith("sandbox ready in "), stderr_of(tmp_path)
        # WHEN a second one is started on the same state dir
        second = subprocess.run([*WEBHOOKCTL, "local", "up", "--port", "0"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        # THEN it refuses at once, leaving the first one reachable
        assert second.returncode == 2
        assert f"a sandbox (pid {process.pid}) already runs with" in second.stderr
        # WHEN `local down` runs
        down = subprocess.run([*WEBHOOKCTL, "local", "down", "--timeout", "20"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        # THEN the sandbox stops cleanly and its state file is gone
        assert (down.returncode, down.stderr) == (0, f"stopped the sandbox (pid {process.pid})\n"), \
            down.stderr + (process.kill() or stderr_of(tmp_path))
        assert process.wait(timeout=20) == 0
        assert not (state_dir / "local.json").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_unwritable_state_dir_is_a_usage_error_before_anything_starts(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    started = time.monotonic()
    result = subprocess.run([*WEBHOOKCTL, "local", "up", "--port", "0", "--state-dir", str(blocker / "state")],
                            env=no_aws_environment(tmp_path, tmp_path), cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot write the sandbox's state in" in result.stderr and "pass a writable --state-dir" in result.stderr
    assert time.monotonic() - started < 10


def test_local_up_takes_settings_as_deploy_does_and_refuses_a_malformed_one_before_starting(tmp_path):
    result = subprocess.run([*WEBHOOKCTL, "local", "up", "--port", "0", "--set", "api_rate_limit"],
                            env=no_aws_environment(tmp_path, tmp_path), cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "'api_rate_limit' is not KEY=VALUE" in result.stderr
    assert not (tmp_path / "local.json").exists()
