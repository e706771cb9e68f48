"""Settings -> template text. Pure: no AWS, no files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from webhookctl.edge.errors import UsageError
from webhookctl.templates import Settings, SettingsError, build_template

# What deploy uploads: the smallest JSON (the body limit is 51,200 bytes), key order kept for readers.
COMPACT_JSON = "compact-json"
TOP_LEVEL_ORDER = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Resources", "Outputs")


def load_settings(suffix: str, overrides: Mapping[str, str]) -> Settings:
    """Validated settings, or a usage error that states each broken rule."""
    if "suffix" in overrides:
        raise UsageError("the suffix is not a --set setting: pass --suffix (it names the stack too)")
    try:
        return Settings.from_overrides(overrides, suffix=suffix)
    except SettingsError as exc:
        raise UsageError(f"invalid settings: {exc}") from exc


def template_dict(settings: Settings) -> dict:
    """The template in reading order; resources keep their dependency order (nothing is sorted)."""
    body = build_template(settings).to_dict()
    return {key: body[key] for key in TOP_LEVEL_ORDER if key in body}


def render_template(settings: Settings, output_format: str = "json", cache_dir: Path | None = None) -> str:
    """The template as JSON, COMPACT_JSON or YAML text; the same settings always give the same bytes (so,
    with CACHE_DIR, a warm render reads them back while the code that made them is unchanged)."""
    if cache_dir is None:
        return _render(settings, output_format)
    from webhookctl.building.render_cache import cached_render

    return cached_render(repr(settings), output_format, lambda: _render(settings, output_format), cache_dir)


def _render(settings: Settings, output_format: str) -> str:
    template = template_dict(settings)
    if output_format == "json":
        return json.dumps(template, indent=2) + "\n"
    if output_format == COMPACT_JSON:
        return json.dumps(template, separators=(",", ":"))
    from webhookctl.building.cfn_yaml import to_yaml

    return to_yaml(template)
