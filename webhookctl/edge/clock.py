"""Time, passed in: every wait and every timestamp goes through a Clock, so tests run instantly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Clock:
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    time: Callable[[], float] = time.time  # epoch seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)


SYSTEM_CLOCK = Clock()


class RateLimiter:
    """Shared by all workers: each acquire(n) books n messages' worth of time on one schedule."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self, count: int) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + count * self.interval
        if start > now:
            self.sleep(start - now)
