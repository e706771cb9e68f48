"""webhookctl.toml parsing and validation (pure), and the file `init` writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webhookctl.building.render import load_settings
from webhookctl.edge.config import ConfigError, config_template, parse_config, select_env
from webhookctl.templates import Settings
from webhookctl.templates.settings import describe_settings

PATH = Path("conf/webhookctl.toml")
NAMES = {row[0] for row in describe_settings()}

GOOD = """
[prod]
region = "eu-west-1"
profile = "payments"
bucket = "my-bucket"
protect = true
tags = { team = "payments" }

[prod.settings]
receiver_reserved_concurrency = 50
retain_data = true
trusted_cidrs = ["192.0.2.0/24", "198.51.100.0/24"]
waf_managed_rules_action = "count"

[staging]
region = "eu-west-2"
"""


def parse(text: str) -> dict:
    return parse_config(text, PATH, NAMES)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_an_environment_table_becomes_its_values_and_its_settings_become_set_strings():
    envs = parse(GOOD)
    prod = envs["prod"]
    assert (prod.region, prod.profile, prod.bucket, prod.protect) == ("eu-west-1", "payments", "my-bucket", True)
    assert prod.tags == {"team": "payments"}
    assert prod.settings == {"receiver_reserved_concurrency": "50", "retain_data": "true",
                             "trusted_cidrs": "192.0.2.0/24,198.51.100.0/24", "waf_managed_rules_action": "count"}
    assert (envs["staging"].region, envs["staging"].protect, envs["staging"].settings) == ("eu-west-2", None, {})
    settings = load_settings("prod", prod.settings)
    assert settings.trusted_cidrs == ("192.0.2.0/24", "198.51.100.0/24") and settings.retain_data is True


def test_an_unknown_key_is_refused_with_its_line_and_the_known_keys():
    message = error_of('[prod]\nregion = "eu-west-1"\nregoin = "x"\n')
    assert message.startswith(f"{PATH}:3: unknown key 'regoin' in [prod]; known: region, profile, bucket")


def test_an_unknown_setting_is_refused_with_its_line():
    message = error_of("[prod]\n\n[prod.settings]\nreceiver_concurrency = 5\n")
    assert message.startswith(f"{PATH}:4: unknown setting 'receiver_concurrency'")


def test_a_dotted_setting_key_is_located_too():
    message = error_of("[prod]\nsettings.nope = 1\n")
    assert message.startswith(f"{PATH}:2: unknown setting 'nope'")


@pytest.mark.parametrize(("text", "expected"), [
    ('[prod]\nprotect = "yes"\n', f"{PATH}:2: prod.protect must be true or false"),
    ("[prod]\nregion = 1\n", f"{PATH}:2: prod.region must be a string"),
    ("[prod]\ntags = { team = 7 }\n", f"{PATH}:2: tag 'team' must be a string"),
    ("[prod.settings]\ntrusted_cidrs = [1, 2]\n", f"{PATH}:2: trusted_cidrs must be an integer, true/false, a string"),
    ("[prod.settings]\nsuffix = \"other\"\n", f"{PATH}:2: the suffix is not a setting"),
    ('region = "eu-west-1"\n', f"{PATH}:1: top-level keys must be environment tables"),
])
def test_values_of_the_wrong_kind_are_refused_with_the_rule(text, expected):
    assert error_of(text).startswith(expected)


def test_malformed_toml_names_the_file_and_the_line():
    message = error_of('[prod]\nregion = "eu-west-1\n')
    assert message.startswith(f"{PATH}: not valid TOML:") and "line 2" in message


def test_an_unknown_environment_lists_the_ones_the_file_has():
    with pytest.raises(ConfigError, match=r"has no \[dev\] environment \(it has: prod, staging\)"):
        select_env(parse(GOOD), "dev", PATH)


def test_the_init_template_parses_and_lists_every_setting_with_its_default():
    text = config_template("prod", describe_settings())
    assert parse(text)["prod"].settings == {}  # everything is commented out
    listed = re.findall(r"^# ([a-z0-9_]+) = ", text.partition("[prod.settings]")[2], re.M)
    assert sorted(listed) == sorted(NAMES - {"suffix"})


def test_uncommenting_every_setting_of_the_init_template_gives_the_defaults():
    text = config_template("prod", describe_settings())
    head, header, body = text.partition("[prod.settings]")
    uncommented = head + header + re.sub(r"^# ([a-z0-9_]+ = )", r"\1", body, flags=re.M)
    settings = parse(uncommented)["prod"].settings
    assert set(settings) == NAMES - {"suffix"}
    assert load_settings("prod", settings) == Settings(suffix="prod")
