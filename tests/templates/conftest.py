"""Rendered templates as plain dicts, built once per session."""

from __future__ import annotations

import json

import pytest

from webhookctl.building.render import render_template
from webhookctl.templates import Settings


def rendered(settings: Settings) -> dict:
    return json.loads(render_template(settings, "json"))


@pytest.fixture(scope="session")
def template() -> dict:
    """The default stack, with a distinctive suffix so name checks cannot pass by accident."""
    return rendered(Settings(suffix="qa7"))


@pytest.fixture(scope="session")
def resources(template: dict) -> dict:
    return template["Resources"]


def of_type(resources: dict, type_name: str) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == type_name}


def props(resources: dict, logical_id: str) -> dict:
    return resources[logical_id]["Properties"]
