"""Stopping the sandbox's servers does not wait out their serve loop's poll."""

from __future__ import annotations

import socketserver
import threading

import pytest

from webhookctl.tryit.serving import stop_serving

LONG_POLL_S = 60  # far longer than the test's patience: only a woken loop stops in time


class _Quiet(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.rfile.read()


def _serving(poll_interval: float) -> tuple[socketserver.ThreadingTCPServer, threading.Thread]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True)
    thread.start()
    return server, thread


def test_a_server_in_a_long_poll_stops_at_once() -> None:
    # GIVEN a server whose serve loop sleeps a minute between looks at its shutdown flag
    server, thread = _serving(LONG_POLL_S)
    try:
        # WHEN it is stopped through stop_serving, from a thread the test can give up on
        stopper = threading.Thread(target=stop_serving, args=(server.shutdown, server.server_address), daemon=True)
        stopper.start()
        stopper.join(10)
        # THEN the loop ended well within its poll
        assert not stopper.is_alive() and not thread.is_alive()
    finally:
        server.server_close()


def test_plain_shutdown_does_wait_out_the_poll() -> None:
    # the reason stop_serving exists: without a wake-up, shutdown() blocks until the poll ends
    server, thread = _serving(LONG_POLL_S)
    try:
        threading.Event().wait(0.1)  # the loop is inside its first poll
        plain = threading.Thread(target=server.shutdown, daemon=True)
        plain.start()
        plain.join(1)
        assert plain.is_alive()
    finally:
        stop_serving(server.shutdown, server.server_address)
        server.server_close()


def test_what_the_stop_raises_reaches_the_caller() -> None:
    server, thread = _serving(LONG_POLL_S)

    def refuses() -> None:
        raise RuntimeError("the server would not stop")

    try:
        with pytest.raises(RuntimeError, match="would not stop"):
            stop_serving(refuses, server.server_address)
    finally:
        stop_serving(server.shutdown, server.server_address)
        server.server_close()
