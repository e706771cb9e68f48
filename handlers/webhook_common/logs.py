"""One JSON object per line on stdout, which Lambda ships to CloudWatch Logs. No payloads, no secrets."""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any

from .contract.environment import LOG_LEVEL, ConfigError

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


@functools.cache
def threshold() -> int:
    """LOG_LEVEL, read once per container; a bad value means the default (logging must never fail)."""
    try:
        return LEVELS[LOG_LEVEL.read(os.environ)]
    except ConfigError:
        return LEVELS[LOG_LEVEL.default]


def log(level: str, message: str, **fields: Any) -> None:
    if LEVELS[level] >= threshold():
        line = json.dumps({"level": level, "message": message, **fields}, default=str, separators=(",", ":"))
        sys.stdout.write(line + "\n")
