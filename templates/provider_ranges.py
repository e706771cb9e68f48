"""The source IPs payment providers publish for their webhooks: the one dated table `provider_cidrs` names.

Pure: the standard library only (settings.py validates with it, and every command may import that). Each
provider says its list changes from time to time, so every record carries where it is published and the
day it was read: refresh the records from their sources, not from memory, and move the date with them.
An IP allowlist is defence in depth only; the receiver's signature check stays the real authentication.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# API Gateway limits a resource policy to 8192 characters; 150 of the longest IPv6 CIDRs still fit.
MAX_SOURCE_CIDRS = 150


@dataclass(frozen=True)
class PublishedRanges:
    """One provider's published webhook source ranges, where they are published and when they were read."""

    cidrs: tuple[str, ...]
    source: str
    retrieved: str  # YYYY-MM-DD


# Read on 2026-12-03 from copies of each source (several agreeing copies each; this workplace cannot reach the
# providers' sites): check them against the source itself at the next refresh.
PUBLISHED: dict[str, PublishedRanges] = {
    "stripe": PublishedRanges((
        "3.18.12.63/32", "3.69.109.8/32", "3.120.168.93/32", "3.130.192.231/32", "13.235.14.237/32",
        "13.235.122.149/32", "18.211.135.69/32", "35.154.171.200/32", "35.157.207.129/32", "52.15.183.38/32",
        "54.88.130.119/32", "54.88.130.237/32", "54.187.174.169/32", "54.187.205.235/32", "54.187.216.72/32",
    ), "https://stripe.com/files/ips/ips_webhooks.json", "2026-12-03"),
    # The Meta API's "hooks" key; 9.234.x were added on 2026-10-29 (GitHub changelog).
    "github": PublishedRanges((
        "9.234.98.160/28", "9.234.98.176/28", "9.234.106.48/28", "140.82.112.0/20", "143.55.64.0/20",
        "185.199.108.0/22", "192.30.252.0/22", "2606:50c0::/32", "2a0a:a440::/29",
    ), "https://api.github.com/meta", "2026-12-03"),
    "paddle": PublishedRanges((
        "34.195.105.136/32", "34.212.5.7/32", "34.232.58.13/32", "34.237.3.244/32", "35.155.119.135/32",
        "52.11.166.252/32",
    ), "https://developer.paddle.com/webhooks/respond-to-webhooks", "2026-12-03"),
    "paddle-sandbox": PublishedRanges((
        "3.208.120.145/32", "34.194.127.46/32", "44.226.236.210/32", "44.241.183.62/32", "54.234.237.108/32",
        "100.20.172.113/32",
    ), "https://developer.paddle.com/webhooks/respond-to-webhooks", "2026-12-03"),
    "square": PublishedRanges(("34.202.99.168/32", "54.245.1.154/32"),
                              "https://developer.squareup.com/docs/webhooks/overview", "2026-12-03"),
    "square-sandbox": PublishedRanges(("54.212.177.79/32", "107.20.218.8/32"),
                                      "https://developer.squareup.com/docs/webhooks/overview", "2026-12-03"),
}

# Names a user may reasonably try, and why the table cannot answer for them.
NOT_LISTED: dict[str, str] = {
    "adyen": "Adyen publishes no list of webhook IPs (https://docs.adyen.com/development-resources/webhooks/"
             "domain-and-ip-addresses): it sends from out.adyen.com, whose addresses change; rely on its HMAC "
             "signature, or resolve that name yourself and pass the CIDRs",
    "checkout": "Checkout.com publishes its webhook IPs as files (https://www.checkout.com/docs/developer-resources/"
                "ip-addresses) that this table does not carry yet; pass their CIDRs instead",
    "razorpay": "Razorpay publishes its webhook IPs only on a web page (https://razorpay.com/docs/whitelists/) that "
                "this table does not carry yet; pass their CIDRs instead",
}

ENTRY_RULE = ("an IPv4 or IPv6 CIDR such as 192.0.2.0/24, or a provider with a published list: "
              + ", ".join(sorted(PUBLISHED)))


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry, strict=True)
    except ValueError:
        return None


def entry_problems(entries: tuple[str, ...]) -> list[str]:
    """What is wrong with `provider_cidrs`, one message per bad entry (empty when every entry is usable)."""
    problems = []
    for entry in entries:
        if entry.lower() in NOT_LISTED:
            problems.append(f"provider_cidrs={entry!r}: {NOT_LISTED[entry.lower()]}")
        elif entry.lower() not in PUBLISHED and _network(entry) is None:
            problems.append(f"provider_cidrs={entry!r} must be {ENTRY_RULE}")
    if not problems and len(source_cidrs(entries)) > MAX_SOURCE_CIDRS:
        problems.append(f"provider_cidrs expands to {len(source_cidrs(entries))} CIDRs; at most "
                        f"{MAX_SOURCE_CIDRS} fit in an API Gateway resource policy (8192 characters)")
    return problems


def source_cidrs(entries: tuple[str, ...]) -> list[str]:
    """The CIDRs the entries stand for (provider names expanded), normalised, unique, IPv4 before IPv6."""
    networks = set()
    for entry in entries:
        listed = PUBLISHED.get(entry.lower())
        for cidr in listed.cidrs if listed else (entry,):
            network = _network(cidr)
            if network is not None:
                networks.add(network)
    return [str(n) for n in sorted(networks, key=lambda n: (n.version, n))]
