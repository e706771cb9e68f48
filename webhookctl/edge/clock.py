"""Time, passed in: every wait and every timestamp goes through a Clock, so tests run instantly."""

from __future__ import annotations

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
