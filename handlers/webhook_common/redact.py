"""Card numbers made unreadable wherever we write: masked to first 6 / last 4, card secrets dropped. Stdlib.

Text is searched as a reader would read its digits, so every common spelling of a PAN is caught:
full-width and other Unicode decimal digits (as their ASCII value), NBSP and other compatibility spaces
and separators (their NFKC form), `\\u0034` escapes written into the text, percent-encoded digits and
separators (`%34`, `%20`), and control characters (as spaces: JSON would write them as `\\u00XX`, whose
digits could join a neighbouring run).
A run is digits separated by nothing or by spaces, `-`, `.`, `_`, `/`, `,` or `+`; its groups are the
digit stretches between separators. A run is masked as a whole when it holds a card number: the whole
run, or a stretch of whole groups (a PAN followed by " 22"), with 13-19 digits passing the Luhn check;
runs over 19 digits are masked when any 13-19 digit stretch passes (a PAN glued into a longer number or
into letters). Masking is one-way; text outside a masked run keeps its own characters.

`mask_cards` is for what we store (the payload keeps its shape: only card secrets are dropped);
`redact` is for what we log (our own secrets and the raw payload are dropped too). Serialise the result
with `ensure_ascii=False`: ASCII escapes (\\u0663) would put new digits into the line.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal
from typing import Any

# Normalised (lower-case, alphanumerics only) names whose values are never written, even masked (PCI DSS
# forbids keeping card verification codes, PINs and track data after authorisation).
CARD_SECRET_KEYS = frozenset({
    "cvc", "cvc2", "cvv", "cvv2", "cvn", "csc", "securitycode", "cardsecuritycode", "cardverificationcode",
    "track1", "track2", "trackdata", "pin", "pinblock",
})
# ...and, in logs only, the names of our own secrets and of the raw payload.
LOG_ONLY_KEYS = frozenset({
    "cardnumber", "pan", "primaryaccountnumber", "password", "secret", "signingsecret", "hmacsignature",
    "signature", "authorization", "payload",
})
SENSITIVE_KEYS = CARD_SECRET_KEYS | LOG_ONLY_KEYS
# Provider references that are 16-digit numbers by design (Adyen's), never a card number: one in ten passes
# the Luhn check by chance, and masking it would break the payment id the processor derives from it.
REFERENCE_KEYS = frozenset({"pspreference", "originalreference"})
MASK = "*"
SEPARATORS = " \\-._/,+"
_RUN = re.compile(f"[0-9](?:[{SEPARATORS}]*[0-9])*")
_SPLIT = re.compile(f"[{SEPARATORS}]+")
_CONTROLS = {code: " " for code in (*range(32), 127)}
_SURROGATES = {code: "\ufffd" for code in range(0xD800, 0xE000)}
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Percent-encoded digits, separators and control characters (form and URL encoding), decoded before the search
# (a control character then reads as a space, as a reader skips it).
_PERCENT = re.compile(r"%(3[0-9]|2[0BCDEFbcdef]|5[Ff]|[01][0-9A-Fa-f]|7[Ff])")


SHORTEST_CARD, LONGEST_CARD = 13, 19  # digits in a card number (ISO/IEC 7812)


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
        for size in range(SHORTEST_CARD, min(LONGEST_CARD, length) + 1)
        for start in range(length - size + 1)
    )


def holds_card_number(groups: list[str]) -> bool:
    digits = "".join(groups)
    if len(digits) > LONGEST_CARD:
        return has_card_number(digits)
    for start in range(len(groups)):
        stretch = ""
        for group in groups[start:]:
            stretch += group
            if SHORTEST_CARD <= len(stretch) <= LONGEST_CARD and luhn_valid(stretch):
                return True
    return False


def _mask_run(match: re.Match) -> str:
    run = match.group()
    groups = [g for g in _SPLIT.split(run) if g]
    if sum(map(len, groups)) < SHORTEST_CARD or not holds_card_number(groups):
        return run
    digits = "".join(groups)
    return digits[:6] + MASK * (len(digits) - 10) + digits[-4:]


def _unescape(match: re.Match) -> str:
    """A `\\uXXXX` written into the text, decoded as a reader would read it (a lone surrogate stays escaped)."""
    code = int(match[1], 16)
    return match[0] if 0xD800 <= code <= 0xDFFF else chr(code)


@functools.lru_cache(maxsize=4096)
def _ascii_view(char: str) -> str:
    """One character as the search (and a reader) sees it: any decimal digit as its ASCII digit, and its
    compatibility form (NFKC: superscript and circled digits, fractions such as ¼ = 1⁄4, NBSP, full-width
    hyphens) with digits, spaces and separators in ASCII; may be several characters."""
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    folded = unicodedata.normalize("NFKC", char)
    if folded == char:
        return " " if char.isspace() else char
    return "".join(_ascii_view(c) if c != char else c for c in folded)


def normalise(text: str) -> str:
    """Escaped and encoded digits and separators decoded, control characters as spaces."""
    if "\\u" in text:
        text = _ESCAPE.sub(_unescape, text)
    if "%" in text:
        text = _PERCENT.sub(lambda m: chr(int(m[1], 16)), text)
    return text.translate(_CONTROLS)


def mask_text(text: str) -> str:
    """The text with every card number masked; characters outside a masked run are kept as they were."""
    if len(text) < SHORTEST_CARD and text.isascii() and text.isprintable():
        return text  # too short to spell 13 digits in any encoding: most keys and values of a payload
    text = normalise(text)
    if text.isascii():
        return _RUN.sub(_mask_run, text)
    views = [_ascii_view(c) for c in text]
    view = "".join(views)
    origin = [i for i, v in enumerate(views) for _ in v]  # the text's index of each view character
    pieces, kept_from = [], 0
    for match in _RUN.finditer(view):
        masked = _mask_run(match)
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        if masked != match.group() and start >= kept_from:
            pieces += [text[kept_from:start], _cut_folds(masked, match, origin)]
            kept_from = end
    # (a lone surrogate, which JSON can carry, could not be written to the log at all)
    masked_text = ("".join(pieces) + text[kept_from:]).translate(_SURROGATES)
    # A run that began inside a character the previous one replaced (¼ = 1⁄4) is read again on its own.
    return mask_text(masked_text) if pieces and masked_text != text else masked_text


def _cut_folds(masked: str, match: re.Match, origin: list[int]) -> str:
    """MASKED, with a star at each end that falls inside one folded character (¾ = 3⁄4): the whole character
    is replaced, so the digits beside it must not join the masked run's shown digits into a new number."""
    view_start, view_end = match.start(), match.end()
    if view_start > 0 and origin[view_start - 1] == origin[view_start]:
        masked = "*" + masked[1:]
    if view_end < len(origin) and origin[view_end] == origin[view_end - 1]:
        masked = masked[:-1] + "*"
    return masked


@functools.lru_cache(maxsize=4096)  # a provider's payloads reuse a few hundred keys
def _normalised_key(key: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", normalise(key)).lower() if c.isalnum())


@functools.lru_cache(maxsize=4096)
def _masked_key(key: str) -> str:
    return mask_text(key)


def is_sensitive(key: str) -> bool:
    return _normalised_key(key) in SENSITIVE_KEYS


def mask_cards(value: Any) -> Any:
    """A JSON-ready copy with card numbers masked and card secrets dropped, at any depth: what we store."""
    return _walk(value, CARD_SECRET_KEYS)


def redact(value: Any) -> Any:
    """mask_cards, and our own secrets and the raw payload dropped too: what we log."""
    return _walk(value, SENSITIVE_KEYS)


def _walk(value: Any, dropped: frozenset[str]) -> Any:
    if isinstance(value, str):  # most leaves: checked first, it is the receiver's hot path
        return mask_text(value)
    if isinstance(value, dict):
        return _walk_dict(value, dropped)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_walk(v, dropped) for v in items]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value)
    return mask_text(str(value))


def _reference(value: Any) -> Any:
    """A provider reference is kept as it is when it is all digits; anything else is masked as usual."""
    return value if isinstance(value, str) and value.isascii() and value.isdigit() else _walk(value, frozenset())


def _number(value: int | float | Decimal) -> Any:
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() and abs(value) < 10**40 else float(value)
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked


def _walk_dict(value: dict, dropped: frozenset[str]) -> dict:
    walked = {}
    for k, v in value.items():
        key = str(k)
        normal = _normalised_key(key)
        if normal not in dropped:
            walked[_masked_key(key)] = _reference(v) if normal in REFERENCE_KEYS else _walk(v, dropped)
    return walked
