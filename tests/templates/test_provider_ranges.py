"""The provider IP table: every record says where it comes from and when, and holds only valid, normalised CIDRs."""

from __future__ import annotations

import datetime
import ipaddress
import json

import pytest

from webhookctl.templates.provider_ranges import NOT_LISTED, PUBLISHED, source_cidrs


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_each_record_is_sourced_dated_and_normalised(name):
    record = PUBLISHED[name]
    assert record.source.startswith("https://")
    assert datetime.date.fromisoformat(record.retrieved) <= datetime.date.today()
    assert record.cidrs and len(set(record.cidrs)) == len(record.cidrs)
    assert all(str(ipaddress.ip_network(c, strict=True)) == c for c in record.cidrs)


def test_names_are_lowercase_and_never_both_listed_and_refused():
    assert all(name == name.lower() for name in [*PUBLISHED, *NOT_LISTED])
    assert not set(PUBLISHED) & set(NOT_LISTED)
    assert "adyen" in NOT_LISTED


def test_entries_expand_dedupe_and_sort_ipv4_first():
    assert source_cidrs(("square", "2001:db8::/32", "54.245.1.154", "Square", "192.0.2.0/24")) == [
        "34.202.99.168/32", "54.245.1.154/32", "192.0.2.0/24", "2001:db8::/32"]
    assert source_cidrs(()) == []


def test_the_largest_allowed_list_fits_api_gateways_policy_limit():
    from webhookctl.templates.api import source_policy
    from webhookctl.templates.provider_ranges import MAX_SOURCE_CIDRS

    longest = [f"ffff:ffff:ffff:ffff:ffff:ffff:ffff:{n:04x}/128" for n in range(MAX_SOURCE_CIDRS)]
    assert len(json.dumps(source_policy(longest))) <= 8192
