"""Deploy's preflight against an emulator that lacks an API: a plain moto_server (none of the emulator's patches)
answers Lambda's GetAccountSettings with an HTML 404. The check becomes a one-line note; nothing fails."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REGION
from webhookctl.edge.aws import AwsClients, AwsTarget
from webhookctl.stack.preflight import apigateway_role_fix, preflight
from webhookctl.templates.settings import Settings

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "moto_server exited"
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"moto_server did not answer at {url}")


@pytest.fixture(scope="module")
def plain_moto() -> Iterator[str]:
    """moto's own server in its own process, on loopback: what a user might point deploy at."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(url, server)
        yield url
    finally:
        server.kill()
        server.wait(timeout=10)


def test_a_missing_lambda_api_is_a_one_line_note_and_the_other_check_still_decides(plain_moto: str) -> None:
    clients = AwsClients(AwsTarget(region=REGION, endpoint_url=plain_moto))
    problems, notes = preflight(clients, Settings(), None)
    # The quota check could not run: one line saying so, with no HTML from the 404 page
    [note] = notes
    assert "skipped the check of Lambda's concurrency quota" in note
    assert "\n" not in note and "<" not in note
    # API Gateway's check did run: plain moto's fresh account has no CloudWatch Logs role, as a fresh AWS one
    assert problems == [apigateway_role_fix(REGION)]
