"""Make a value safe to log: card numbers masked to first 6 / last 4, card secrets dropped. Pure stdlib.

A card-number-like run is a run of digits that may be split by spaces or dashes. Any run of 13 or more
digits that contains a Luhn-valid stretch of 13-19 digits is masked as a whole, so a PAN glued to other
digits ("4111111111111111 22") is caught too. Keys are redacted like values; binary values are replaced by
their length. Redaction is a one-way function: nothing here can restore a digit.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

# Normalised (lower-case, alphanumerics only) names whose values are never logged.
SENSITIVE_KEYS = frozenset({
    "cvc", "cvc2", "cvv", "cvv2", "cvn", "csc", "securitycode", "cardsecuritycode", "cardverificationcode",
    "cardnumber", "pan", "primaryaccountnumber", "track1", "track2", "trackdata", "pin", "pinblock",
    "password", "secret", "signingsecret", "hmacsignature", "signature", "authorization", "payload",
})
MASK = "*"
_RUN = re.compile(r"[0-9](?:[ \-]*[0-9])*")
_NOT_DIGIT = re.compile(r"[^0-9]")


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
    return any(luhn_valid(digits[start:start + size])
               for size in range(13, min(19, length) + 1) for start in range(length - size + 1))


def _mask_run(match: re.Match) -> str:
    digits = _NOT_DIGIT.sub("", match.group())
    if len(digits) < 13 or not has_card_number(digits):
        return match.group()
    return digits[:6] + MASK * (len(digits) - 10) + digits[-4:]


def mask_text(text: str) -> str:
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
