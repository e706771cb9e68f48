"""Stopping a socketserver at once: serve_forever() notices shutdown() only when its poll (half a second)
ends, so every sandbox stop waited that out twice, for the gateway and for the emulator."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


def stop_serving(stop: Callable[[], None], address: tuple[str, int], wake_every_s: float = 0.01) -> None:
    """stop() (which returns once the serve loop has ended), with throwaway connections to ADDRESS waking that
    loop until it does (one that arrives before the shutdown request costs an accept and an empty read).
    What stop() raises is raised here."""
    failures: list[BaseException] = []

    def stopping() -> None:
        try:
            stop()
        except BaseException as exc:  # handed to the caller's thread below
            failures.append(exc)

    thread = threading.Thread(target=stopping, name="stop-serving", daemon=True)
    thread.start()
    while thread.is_alive():
        with contextlib.suppress(OSError):
            socket.create_connection(address, timeout=wake_every_s * 10).close()
        thread.join(wake_every_s)
    if failures:
        raise failures[0]
