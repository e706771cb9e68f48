"""Reading JSON whose shape is not guaranteed (queue bodies, HTTP answers, the secrets document)."""

from __future__ import annotations

import json
from typing import Any


def json_object(data: str | bytes) -> dict[str, Any] | None:
    """The JSON object in data, or None when data is not JSON or not an object."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
