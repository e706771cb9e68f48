"""The payment-webhook stack as troposphere objects. Pure: no boto3, no I/O, no webhookctl imports."""

from .outputs import OUTPUTS
from .settings import Settings, SettingsError
from .stack import build_template

__all__ = ["OUTPUTS", "Settings", "SettingsError", "build_template"]
