"""render's YAML is byte for byte cfn-flip's (`to_yaml(json, clean_up=False)`, the reference): for the stack
in several shapes, and for any template-shaped value (keys as CloudFormation's are: short, printable, never
empty), through libyaml and through PyYAML's own emitter."""

from __future__ import annotations

import json

import cfn_flip
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookctl.building import cfn_yaml
from webhookctl.building.render import template_dict
from webhookctl.templates import Settings


def reference(value) -> str:
    return cfn_flip.to_yaml(json.dumps(value, indent=2) + "\n", clean_up=False)


SHAPES = [{}, {"trusted_cidrs": "192.0.2.0/24,198.51.100.0/24", "alert_emails": "a@example.com,b@example.com"},
          {"receiver_reserved_concurrency": "200", "log_retention_days": "365"}]


@pytest.mark.parametrize("overrides", SHAPES, ids=["defaults", "lists", "numbers"])
@pytest.mark.parametrize("c_emitter", [True, False], ids=["libyaml", "pure-python"])
def test_the_stack_renders_as_cfn_flip_writes_it(overrides, c_emitter, monkeypatch):
    monkeypatch.setattr(cfn_yaml, "C_EMITTER", c_emitter and cfn_yaml.C_EMITTER)
    template = template_dict(Settings.from_overrides(overrides, suffix="yaml-check"))
    assert not cfn_yaml._has_text_breaking_differently(template), "the stack should take the fast emitter"
    assert cfn_yaml.to_yaml(template) == reference(template)


TEXT = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    st.sampled_from(["0123456789012", "012", "arn:${AWS::Partition}:s3:::b/*", "*", "2012-10-17", "true", "null",
                     "- dash", "a: b", "#hash", "x" * 230, "a\nb", "word " * 50, ("line\n" * 3) + "y" * 200,
                     "z" * 120 + "\n" + "z" * 120, "p q" * 40,
                     ("ab " * 200)[:450], " lead" * 30, "tab\t" * 40, "q" * 60 + "\x07", "é " * 150,
                     "${AWS::Region}", "'quoted'", '"q"', ""]),
)
# What CloudFormation keys look like: logical ids, property names, condition keys (never empty, never long).
KEYS = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="'\"#"), min_size=1, max_size=60)
INTRINSICS = st.one_of(
    TEXT.map(lambda s: {"Ref": s}), st.lists(TEXT, min_size=2, max_size=2).map(lambda p: {"Fn::GetAtt": p}),
    TEXT.map(lambda s: {"Fn::Sub": s}),
    st.tuples(TEXT, st.dictionaries(KEYS, TEXT, max_size=2)).map(lambda p: {"Fn::Sub": list(p)}),
)
VALUES = st.recursive(
    st.one_of(TEXT, st.integers(-10**6, 10**9), st.booleans(), INTRINSICS),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(KEYS, children, min_size=1, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, min_size=1, max_size=5))
def test_any_template_shaped_value_renders_as_cfn_flip_writes_it(value):
    assert cfn_yaml.to_yaml(value) == reference(value)
