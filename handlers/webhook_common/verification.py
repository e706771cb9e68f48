"""Signature-checking building blocks shared by the providers: errors, HMAC, constant-time matching.

Pure stdlib; never logs or returns the body, a secret or a computed signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping


class VerificationError(Exception):
    """The request is not provably from the provider; the receiver answers 401 with this message."""


class MissingSignature(VerificationError):
    """A header or field the provider always sends is absent."""


class InvalidSignature(VerificationError):
    """The signature is malformed or matches none of the active secrets."""


class StaleTimestamp(VerificationError):
    """The signed timestamp is outside the provider's replay window."""


class ProviderConfigError(Exception):
    """The provider's signing-secret entry lacks a required option: a deployment fault, not the caller's."""


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def as_bytes(text: str) -> bytes:
    # Header values are str; compare_digest on str rejects non-ASCII, so compare bytes. "replace" turns
    # stray characters into '?', which never occurs in hex or base64, so they can only fail to match.
    return text.encode("utf-8", "replace")


def any_match(expected: Iterable[bytes], presented: Iterable[str]) -> bool:
    """True if any presented signature equals any expected one; every pair is compared in constant time."""
    presented_bytes = [as_bytes(p) for p in presented]
    found = False
    for candidate in expected:
        for signature in presented_bytes:
            found |= hmac.compare_digest(candidate, signature)
    return found


def hex_macs(secrets: Iterable[str], message: bytes) -> list[bytes]:
    """Hex HMAC-SHA256 of message under each UTF-8 secret (Stripe, Checkout, Razorpay, Paddle, GitHub).

    A blank secret is skipped: an HMAC under an empty key is one anybody can compute."""
    return [hmac_sha256(s.encode("utf-8"), message).hex().encode() for s in secrets if s.strip()]


def b64_macs(keys: Iterable[bytes], message: bytes) -> list[bytes]:
    """Base64 HMAC-SHA256 of message under each raw key (Square, Adyen); empty keys are skipped."""
    return [base64.b64encode(hmac_sha256(k, message)) for k in keys if k.strip()]


def header(headers: Mapping[str, str], name: str, display: str) -> str:
    """The header's value (names arrive lower-cased); MissingSignature names it when absent or empty."""
    value = headers.get(name)
    if not value:
        raise MissingSignature(f"missing {display} header")
    return value


def unhex_keys(secrets: Iterable[str]) -> list[bytes]:
    """Adyen HMAC keys are hex strings; a key that is not hex cannot match anything, so it is skipped."""
    keys = []
    for secret in secrets:
        try:
            keys.append(binascii.a2b_hex(secret.strip()))
        except (binascii.Error, ValueError):
            continue
    return keys


def check_window(timestamp: int, now: int, tolerance: int, *, future: bool) -> None:
    """StaleTimestamp when timestamp is older than tolerance (or, if future, that far ahead)."""
    if timestamp < now - tolerance:
        raise StaleTimestamp("signature timestamp is older than the tolerance")
    if future and timestamp > now + tolerance:
        raise StaleTimestamp("signature timestamp is too far in the future")
