"""Where a running sandbox can be found by other commands (`webhookctl --local ...`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from webhookctl.errors import UsageError

STATE_FILE = Path(os.environ.get("WEBHOOKCTL_STATE_DIR", ".webhookctl")) / "local.json"


def local_endpoint() -> str:
    """The sandbox's endpoint URL, or a usage error saying how to start one."""
    try:
        return json.loads(STATE_FILE.read_text())["endpoint_url"]
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"no local sandbox found ({STATE_FILE}): start one with "
                         "`webhookctl local up`, or set AWS_ENDPOINT_URL") from exc
