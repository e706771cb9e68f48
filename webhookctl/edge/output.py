"""Pure formatters: results in, text out. No I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

# Every `--format json` uses camelCase keys, as AWS's own APIs and the payment event contract do.


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table (no trailing spaces)."""
    cells = [[str(c) for c in headers], *[[("" if c is None else str(c)) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def settings_table() -> str:
    from webhookctl.templates.settings import describe_settings

    return table(("SETTING", "DEFAULT", "MEANING"), describe_settings())


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def json_fields(record: Any) -> dict[str, Any]:
    """A dataclass as a JSON object with camelCase keys."""
    return {camel(f.name): getattr(record, f.name) for f in dataclasses.fields(record)}
