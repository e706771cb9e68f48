"""Stopping a socketserver at once: serve_forever() notices shutdown() only when its poll (half a second)
ends, so every sandbox stop waited that out twice, for the gateway and for the emulator."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable


def stop_serving(stop: Callable[[], None], address: tuple[str, int], wake_every_s: float = 0.01,
                 wake_for_s: float = 5.0) -> None:
    """stop(), returning once the serve loop has ended, with throwaway connections to ADDRESS to wake that loop
    from its poll; what stop() raises is raised here."""
    failures: list[BaseException] = []

    def stopping() -> None:
        try:
            stop()
        except BaseException as exc:  # handed to the caller's thread below
            failures.append(exc)

    thread = threading.Thread(target=stopping, name="stop-serving", daemon=True)
    thread.start()
    deadline = time.monotonic() + wake_for_s
    # Joined first: a connection made before shutdown() has asked the loop to stop is merely served.
    while not _joined(thread, wake_every_s) and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(address, timeout=wake_every_s * 10).close()
    thread.join()  # past the deadline, a stop that is slow for its own reasons is waited for as before
    if failures:
        raise failures[0]


def _joined(thread: threading.Thread, timeout_s: float) -> bool:
    thread.join(timeout_s)
    return not thread.is_alive()
