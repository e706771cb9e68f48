"""Where webhookctl keeps what it can rebuild: built layers, rendered templates."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/webhookctl, else ~/.cache/webhookctl."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "webhookctl"
