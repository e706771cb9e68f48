"""Make a value safe to log: card numbers masked to first 6 / last 4, card secrets dropped. Pure stdlib.

A run is digits separated by nothing, spaces or dashes; its groups are the digit stretches between
separators. A run is masked as a whole when it holds a card number: the whole run, or a stretch of whole
groups (a PAN followed by " 22"), with 13-19 digits passing the Luhn check; runs over 19 digits are masked
when any 13-19 digit stretch passes (a PAN glued into a long number). Keys are redacted like values, binary
values are replaced by their length, and control characters become spaces. Serialise the result with
`ensure_ascii=False`: ASCII escapes (\u0663) would put new digits into the line. Redaction is one-way.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

# Normalised (lower-case, alphanumerics only) names whose values are never logged.
SENSITIVE_KEYS = frozenset(
    {
        "cvc",
        "cvc2",
        "cvv",
        "cvv2",
        "cvn",
        "csc",
        "securitycode",
        "cardsecuritycode",
        "cardverificationcode",
        "cardnumber",
        "pan",
        "primaryaccountnumber",
        "track1",
        "track2",
        "trackdata",
        "pin",
        "pinblock",
        "password",
        "secret",
        "signingsecret",
        "hmacsignature",
        "signature",
        "authorization",
        "payload",
    }
)
MASK = "*"
_RUN = re.compile(r"[0-9](?:[ \-]*[0-9])*")
_SEPARATORS = re.compile(r"[ \-]+")
# JSON writes control characters as \u00XX, whose digits could join a neighbouring run in the log line;
# they become spaces first, so the masking sees (and masks) exactly the runs a reader of the line would.
_CONTROLS = {code: " " for code in range(32)}


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def has_card_number(digits: str) -> bool:
    """True if any 13-19 digit stretch of `digits` passes the Luhn check."""
    length = len(digits)
    return any(
        luhn_valid(digits[start : start + size])
        for size in range(13, min(19, length) + 1)
        for start in range(length - size + 1)
    )


def holds_card_number(groups: list[str]) -> bool:
    digits = "".join(groups)
    if len(digits) > 19:
        return has_card_number(digits)
    for start in range(len(groups)):
        stretch = ""
        for group in groups[start:]:
            stretch += group
            if 13 <= len(stretch) <= 19 and luhn_valid(stretch):
                return True
    return False


def _mask_run(match: re.Match) -> str:
    run = match.group()
    groups = _SEPARATORS.split(run)
    if sum(map(len, groups)) < 13 or not holds_card_number(groups):
        return run
    digits = "".join(groups)
    return digits[:6] + MASK * (len(digits) - 10) + digits[-4:]


def mask_text(text: str) -> str:
    text = text.translate(_CONTROLS)
    return _RUN.sub(_mask_run, text) if any(c.isdigit() for c in text) else text


def is_sensitive(key: str) -> bool:
    return "".join(c for c in key.lower() if c.isalnum()) in SENSITIVE_KEYS


def redact(value: Any) -> Any:
    """A JSON-ready copy of value with sensitive keys dropped and card numbers masked, at any depth."""
    if isinstance(value, dict):
        return {mask_text(str(k)): redact(v) for k, v in value.items() if not is_sensitive(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [redact(v) for v in items]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value)
    return mask_text(str(value))


def _number(value: int | float | Decimal) -> Any:
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() and abs(value) < 10**40 else float(value)
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked
