"""The contract holds the template, the handlers and the CLI to the same facts: what the template renders
is exactly what the runtime reads, with the same names, defaults and bounds."""

from __future__ import annotations

import json

import pytest
from webhook_common import runtime

from webhookctl.building.render import render_template
from webhookctl.handlers.webhook_common.contract import environment as env
from webhookctl.handlers.webhook_common.contract import names
from webhookctl.handlers.webhook_common.contract import stack as contract
from webhookctl.templates import Settings, SettingsError


def rendered(settings: Settings) -> dict:
    return json.loads(render_template(settings, "json"))


def function_environment(template: dict, role: str) -> dict[str, object]:
    function = template["Resources"][f"{role.capitalize()}Function"]["Properties"]
    return function["Environment"]["Variables"]


def as_deployed(variables: dict[str, object]) -> dict[str, str]:
    """What Lambda would hand the function: references resolved to some physical value."""
    return {name: value if isinstance(value, str) else f"resolved-{name.lower()}" for name, value in
            variables.items()}


@pytest.mark.parametrize("role", names.FUNCTIONS)
def test_each_function_gets_exactly_the_contracts_variables(role):
    variables = function_environment(rendered(Settings()), role)
    assert list(variables) == [v.name for v in env.FUNCTION_ENVIRONMENT[role]]


@pytest.mark.parametrize("overrides", [
    {}, {"event_ttl_days": "3650", "replay_guard_days": "7300", "secrets_cache_seconds": "0"},
    {"event_ttl_days": "1", "replay_guard_days": "31", "secrets_cache_seconds": "3600"}])
def test_the_runtime_reads_what_the_template_renders(overrides, monkeypatch):
    settings = Settings.from_overrides(overrides, suffix="contract")
    variables = as_deployed(function_environment(rendered(settings), "receiver"))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    try:
        config = runtime.receiver_config()
    finally:
        runtime.reset()
    assert (config.event_ttl_days, config.replay_guard_days, config.secrets_cache_seconds) == (
        settings.event_ttl_days, settings.replay_guard_days, settings.secrets_cache_seconds)
    assert config.table_name == variables[env.TABLE_NAME.name]


# Each variable's setting, with what it must be read together with (replay_guard_days > event_ttl_days).
BOUNDED = {env.EVENT_TTL_DAYS: {"replay_guard_days": "7300"}, env.REPLAY_GUARD_DAYS: {"event_ttl_days": "30"},
           env.SECRETS_CACHE_SECONDS: {}}


@pytest.mark.parametrize("variable", list(BOUNDED), ids=lambda v: v.name)
def test_settings_and_runtime_share_each_variables_bounds(variable):
    setting, others = variable.name.lower(), BOUNDED[variable]
    for edge in (variable.low, variable.high):
        assert getattr(Settings.from_overrides({setting: str(edge), **others}), setting) == edge
        assert variable.parse(str(edge)) == edge
    for outside in (variable.low - 1, variable.high + 1):
        with pytest.raises(SettingsError, match=f"{setting}={outside} must be {variable.rule}"):
            Settings.from_overrides({setting: str(outside), **others})
        with pytest.raises(env.ConfigError, match=f"{variable.name} must be {variable.rule}"):
            variable.parse(str(outside))
    assert Settings().__getattribute__(setting) == variable.default


def test_a_missing_required_variable_names_itself():
    with pytest.raises(env.ConfigError, match="environment variable TABLE_NAME is not set"):
        env.read(env.FUNCTION_ENVIRONMENT["processor"], {})


def test_parameters_and_outputs_are_the_contracts():
    template = rendered(Settings())
    assert list(template["Parameters"]) == list(contract.PARAMETERS)
    assert list(template["Outputs"]) == [o.key for o in contract.OUTPUTS]
    functions = {o.subject for o in contract.with_role(contract.FUNCTION)}
    assert functions == set(names.FUNCTIONS) == set(env.FUNCTION_ENVIRONMENT)


def test_physical_names_come_from_the_suffix():
    template = rendered(Settings(suffix="team-a"))
    resources = template["Resources"]
    assert resources["WebhookTable"]["Properties"]["TableName"] == names.table_name("team-a")
    for role in names.FUNCTIONS:
        function = resources[f"{role.capitalize()}Function"]["Properties"]
        assert function["FunctionName"] == names.function_name(role, "team-a")
        assert resources[f"{role.capitalize()}LogGroup"]["Properties"]["LogGroupName"] == \
            names.function_log_group(role, "team-a")
    assert names.suffix_of(names.stack_name("team-a")) == "team-a"


def test_the_contracts_provider_list_is_the_receivers():
    from webhook_common.providers import PROVIDERS

    from webhookctl.handlers.webhook_common.contract import names

    assert set(names.PROVIDERS) == set(PROVIDERS) and len(names.PROVIDERS) == len(PROVIDERS)
