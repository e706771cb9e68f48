"""Settings -> template text. Pure: no AWS, no files."""

from __future__ import annotations

from collections.abc import Mapping

from webhookctl.errors import UsageError
from webhookctl.templates import Settings, SettingsError, build_template


def load_settings(suffix: str, overrides: Mapping[str, str]) -> Settings:
    """Validated settings, or a usage error that states each broken rule."""
    try:
        return Settings.from_overrides(overrides, suffix=suffix)
    except SettingsError as exc:
        raise UsageError(f"invalid settings: {exc}") from exc


def render_template(settings: Settings, output_format: str = "json") -> str:
    """The template as JSON or YAML text; the same settings always give the same bytes."""
    # Resources keep their dependency order (no sort_keys): readers see keys before tables before
    # functions, and engines that create in key order still get a valid order.
    body = build_template(settings).to_json(indent=2, sort_keys=False) + "\n"
    if output_format == "json":
        return body
    from cfn_flip import to_yaml

    return to_yaml(body, clean_up=False)
