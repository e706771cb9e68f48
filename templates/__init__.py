"""The payment-webhook stack as troposphere objects: `build_template(settings) -> Template`.

Pure: no boto3, no I/O; imports troposphere, awacs, the standard library and the contract only. The
builder loads on first use, so `webhookctl.templates.settings` (which every command reads) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from troposphere import Template

__all__ = ["Settings", "SettingsError", "build_template"]


def build_template(settings: Settings) -> Template:
    from .stack import build_template as build

    return build(settings)
