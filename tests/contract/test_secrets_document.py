"""The signing-secrets document's one parser and one writer, and the rotation edits, as pure functions."""

from __future__ import annotations

import json

import pytest

from webhookctl.handlers.webhook_common.contract import secrets as document
from webhookctl.handlers.webhook_common.contract.secrets import SecretsDocumentError
from webhookctl.handlers.webhook_common.secrets import usable_entries

NEW, OLD = "whsec_new_0123456789abcdef", "whsec_old_fedcba9876543210"


def edited(value: dict, edit, *args, **kwargs) -> dict:
    return json.loads(document.dump(edit(document.parse(json.dumps(value)), *args, **kwargs)))


def test_with_secret_puts_the_new_one_first_and_keeps_the_old_for_rotation():
    assert edited({"stripe": [OLD], "github": ["g"]}, document.with_secret, "stripe", NEW) == {
        "stripe": [NEW, OLD], "github": ["g"]}


def test_with_secret_dedups_and_replace_drops_the_old():
    assert edited({"stripe": [OLD, NEW]}, document.with_secret, "stripe", NEW) == {"stripe": [NEW, OLD]}
    assert edited({"stripe": [OLD, NEW]}, document.with_secret, "stripe", NEW, replace=True) == {"stripe": [NEW]}


def test_object_entries_keep_their_options_and_options_can_be_added():
    square = {"square": {"secrets": [OLD], "notificationUrl": "https://a.example/webhook/square"}}
    assert edited(square, document.with_secret, "square", NEW) == {
        "square": {"secrets": [NEW, OLD], "notificationUrl": "https://a.example/webhook/square"}}
    assert edited({"square": [OLD]}, document.with_secret, "square", NEW,
                  options={"notificationUrl": "https://b.example/x"}) == {
        "square": {"secrets": [NEW, OLD], "notificationUrl": "https://b.example/x"}}


def test_a_malformed_entry_is_refused_unless_replaced_and_kept_as_it_was_by_other_edits():
    with pytest.raises(SecretsDocumentError, match="neither a list of secrets nor an object"):
        edited({"stripe": "just-a-string"}, document.with_secret, "stripe", NEW)
    assert edited({"stripe": "just-a-string"}, document.with_secret, "stripe", NEW, replace=True) == {
        "stripe": [NEW]}
    assert edited({"stripe": "just-a-string"}, document.with_secret, "github", "g") == {
        "stripe": "just-a-string", "github": ["g"]}


def test_without_drops_a_provider_or_only_its_older_secrets():
    value = {"stripe": [NEW, OLD], "square": {"secrets": [NEW, OLD], "notificationUrl": "u"}}
    assert edited(value, document.without, "stripe") == {"square": {"secrets": [NEW, OLD], "notificationUrl": "u"}}
    assert edited(value, document.without, "square", keep_newest=True) == {
        "stripe": [NEW, OLD], "square": {"secrets": [NEW], "notificationUrl": "u"}}



@pytest.mark.parametrize("text", ["[]", "not json", '"a string"', "[1, 2]"])
def test_anything_but_an_object_is_refused_by_the_one_parser(text):
    with pytest.raises(SecretsDocumentError):
        document.parse(text)


def test_the_receiver_sees_only_usable_entries_of_the_same_document():
    text = json.dumps({"stripe": [NEW], "github": ["", "  "], "adyen": "not-a-list", "square": {"secrets": []},
                       "paddle": {"secrets": [" ", OLD], "tolerance": 60}})
    entries = usable_entries(text)
    assert sorted(entries) == ["paddle", "stripe"]
    assert (entries["paddle"].secrets, dict(entries["paddle"].options)) == ((OLD,), {"tolerance": 60})
