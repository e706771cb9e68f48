"""Pure formatters: results in, text out. No I/O."""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table (no trailing spaces)."""
    cells = [[str(c) for c in headers], *[[("" if c is None else str(c)) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def settings_table() -> str:
    from webhookctl.templates.settings import describe_settings

    return table(("SETTING", "DEFAULT", "MEANING"), describe_settings())
