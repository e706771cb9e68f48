"""The settings a stack records in its template Metadata, and which of them a run would revert."""

from __future__ import annotations

import json

from webhookctl.templates import Settings
from webhookctl.templates.metadata import Revert, metadata_entry, recorded_settings, reverts


def test_only_settings_that_differ_from_their_defaults_are_recorded_as_json_values():
    s = Settings(suffix="prod", receiver_reserved_concurrency=50, trusted_cidrs=("192.0.2.0/24",), retain_data=True)
    entry = metadata_entry(s)
    assert entry == {"Webhookctl": {"settings": {"receiver_reserved_concurrency": 50,
                                                 "trusted_cidrs": ["192.0.2.0/24"], "retain_data": True}}}
    assert metadata_entry(Settings(suffix="prod")) == {"Webhookctl": {"settings": {}}}
    assert recorded_settings(json.loads(json.dumps({"Metadata": entry}))) == entry["Webhookctl"]["settings"]


def test_a_template_without_the_entry_records_nothing():
    assert recorded_settings(None) == {}
    assert recorded_settings({"Resources": {}}) == {}
    assert recorded_settings({"Metadata": {"Webhookctl": "odd"}}) == {}


def test_a_recorded_setting_left_at_its_default_unasked_reverts_and_says_how_to_keep_it():
    found = reverts({"receiver_reserved_concurrency": 50}, Settings(suffix="prod"), explicit=set())
    assert found == [Revert("receiver_reserved_concurrency", 50, 10)]
    assert found[0].describe() == ("receiver_reserved_concurrency: deployed 50, this run 10 (default) — pass --set "
                                   "or put it in webhookctl.toml")


def test_a_setting_named_by_this_run_or_unchanged_is_no_revert():
    recorded = {"receiver_reserved_concurrency": 50, "trusted_cidrs": ["192.0.2.0/24"]}
    s = Settings(suffix="prod", trusted_cidrs=("192.0.2.0/24",))
    assert reverts(recorded, s, explicit={"receiver_reserved_concurrency", "trusted_cidrs"}) == []
    assert reverts(recorded, s, explicit={"receiver_reserved_concurrency"}) == []


def test_lists_and_unknown_settings_are_shown_as_typed():
    found = reverts({"trusted_cidrs": ["192.0.2.0/24", "198.51.100.0/24"], "from_the_future": 3},
                    Settings(suffix="prod"), explicit=set())
    assert [r.describe() for r in found] == [
        "from_the_future: deployed 3, this run unknown to this webhookctl — pass --set or put it in webhookctl.toml",
        "trusted_cidrs: deployed 192.0.2.0/24,198.51.100.0/24, this run (none) (default) — pass --set or put it in "
        "webhookctl.toml"]
