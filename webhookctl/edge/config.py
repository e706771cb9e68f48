"""webhookctl.toml: one table per environment (region, profile, bucket, tags, protect, settings), like SAM's
samconfig.toml. Pure parse and validation, standard library only; a bad file is a ConfigError (exit 2)
naming the file, the line and key where known, and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webhookctl.edge.errors import UsageError

CONFIG_NAME = "webhookctl.toml"
# key -> (accepted Python types, the rule in words)
ENV_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "region": ((str,), "a string such as \"eu-west-1\""),
    "profile": ((str,), "a string naming an AWS profile"),
    "bucket": ((str,), "a string naming an S3 bucket"),
    "tags": ((dict,), "a table of string values, such as { team = \"payments\" }"),
    "protect": ((bool,), "true or false"),
    "settings": ((dict,), "a table of settings (see `webhookctl render --list-settings`)"),
}
SETTING_RULE = "an integer, true/false, a string or an array of strings"
_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"^\s*[\"']?([A-Za-z0-9_.-]+?)[\"']?\s*=")


class ConfigError(UsageError):
    """webhookctl.toml is malformed, breaks a rule, or lacks the environment asked for."""


@dataclass(frozen=True)
class EnvConfig:
    """One environment's table; None / empty where the file says nothing."""

    name: str
    path: Path | None = None
    region: str | None = None
    profile: str | None = None
    bucket: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    protect: bool | None = None
    settings: dict[str, str] = field(default_factory=dict)  # as --set strings: "50", "true", "a,b"


def load_config(path: Path, setting_names: Collection[str]) -> dict[str, EnvConfig]:
    """Every environment in the file at PATH, validated."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_config(text, path, setting_names)


def parse_config(text: str, path: Path, setting_names: Collection[str]) -> dict[str, EnvConfig]:
    """Every environment in TEXT (read from PATH, named in errors), validated."""
    import tomllib  # most commands run with no file, and its parser costs a render 1.6 ms to import

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    where = _Locator(text, path)
    envs = {}
    for name, table in document.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where(None, name)}: top-level keys must be environment tables such as [prod]")
        envs[name] = _env(name, table, where, setting_names)
    return envs


def select_env(envs: Mapping[str, EnvConfig], name: str, path: Path) -> EnvConfig:
    """The environment NAME, or a ConfigError listing those the file has."""
    if name in envs:
        return envs[name]
    known = ", ".join(sorted(envs)) or "none"
    raise ConfigError(f"{path} has no [{name}] environment (it has: {known}); add one, or pick one with "
                      "--config-env")


def _env(name: str, table: dict[str, Any], where: _Locator, setting_names: Collection[str]) -> EnvConfig:
    for key, value in table.items():
        if key not in ENV_KEYS:
            raise ConfigError(f"{where(name, key)}: unknown key {key!r} in [{name}]; known: "
                              f"{', '.join(ENV_KEYS)}")
        types, rule = ENV_KEYS[key]
        if not isinstance(value, types):
            raise ConfigError(f"{where(name, key)}: {name}.{key} must be {rule}")
    tags = _tags(name, table.get("tags", {}), where)
    settings = _settings(name, table.get("settings", {}), where, setting_names)
    return EnvConfig(name, where.path, table.get("region"), table.get("profile"), table.get("bucket"), tags,
                     table.get("protect"), settings)


def _tags(env: str, tags: dict[str, Any], where: _Locator) -> dict[str, str]:
    bad = [key for key, value in tags.items() if not isinstance(value, str)]
    if bad:
        raise ConfigError(f"{where(f'{env}.tags', bad[0])}: tag {bad[0]!r} must be a string (quote it)")
    return dict(tags)


def _settings(env: str, values: dict[str, Any], where: _Locator, known: Collection[str]) -> dict[str, str]:
    table = f"{env}.settings"
    settings = {}
    for key, value in values.items():
        if key == "suffix":
            raise ConfigError(f"{where(table, key)}: the suffix is not a setting: it is the --suffix the "
                              "environment is deployed with")
        if key not in known:
            raise ConfigError(f"{where(table, key)}: unknown setting {key!r}; see `webhookctl render "
                              "--list-settings`")
        text = as_override(value)
        if text is None:
            raise ConfigError(f"{where(table, key)}: {key} must be {SETTING_RULE}")
        settings[key] = text
    return settings


def as_override(value: Any) -> str | None:
    """A TOML value as the --set string it stands for, or None when no setting takes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return None


class _Locator:
    """`FILE:LINE [table] key` for an error, from a light scan of the text (tomllib keeps no positions)."""

    def __init__(self, text: str, path: Path) -> None:
        self.lines, self.path = text.splitlines(), path

    def __call__(self, table: str | None, key: str) -> str:
        line = self._line(table, key)
        return f"{self.path}:{line}" if line else str(self.path)

    def _line(self, table: str | None, key: str) -> int | None:
        current = None
        for number, line in enumerate(self.lines, 1):
            header = _HEADER.match(line)
            if header:
                current = header.group(1).replace(" ", "")
                if table is None and current.split(".")[0] == key:
                    return number
                continue
            match = _KEY.match(line)
            if match and _names(current, match.group(1)) == _names(table, key):
                return number
        if table:  # a key inside an inline table: the line of the table's own key
            parent, _, last = table.rpartition(".")
            return self._line(parent or None, last)
        return None


def _names(table: str | None, key: str) -> tuple[str, ...]:
    return (*(table.split(".") if table else ()), *key.split("."))


def config_template(env: str, settings: list[tuple[str, str, str]]) -> str:
    """A commented webhookctl.toml for ENV: every key and setting commented out, with its default and doc.

    SETTINGS is templates.settings.describe_settings(): (name, default as shown, description)."""
    lines = [
        f"# {CONFIG_NAME}: one table per environment. `webhookctl deploy --suffix {env}` (and render, diff)",
        f"# read [{env}]; --config-env NAME picks another, --config-file PATH another file.",
        "# Flags on the command line win over this file, and --set over its [ENV.settings].",
        "",
        f"[{env}]",
        "# region = \"eu-west-1\"            # AWS region (default: --region, AWS_REGION or the profile's)",
        "# profile = \"payments\"            # AWS profile (default: boto3's standard chain)",
        "# bucket = \"my-artifact-bucket\"   # artifact bucket (default: webhookctl-artifacts-ACCOUNT-REGION)",
        "# protect = true                  # turn on termination protection after each deploy",
        "# tags = { team = \"payments\" }    # stack tags (--tags adds to them and wins)",
        "",
        f"[{env}.settings]",
        "# Uncomment a line to set it; the value shown is the default.",
    ]
    for name, default, doc in settings:
        if name != "suffix":
            lines += ["", *_comment(doc), f"# {name} = {toml_literal(default)}"]
    return "\n".join(lines) + "\n"


def toml_literal(shown: str) -> str:
    """describe_settings()'s shown default as a TOML value: integer, boolean, array or string."""
    if shown == "(none)":
        return "[]"
    if shown in ("true", "false") or re.fullmatch(r"-?[0-9]+", shown):
        return shown
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(doc: str) -> list[str]:
    import textwrap

    return ["# " + line for line in textwrap.wrap(doc, 110)]
