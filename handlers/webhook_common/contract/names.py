"""Every physical name the stack gives its resources, derived from the environment suffix here and only here."""

from __future__ import annotations

import re

SUFFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
SUFFIX_RULE = ("lowercase letters, digits and hyphens, starting with a letter, "
               "at most 20 characters (e.g. dev, prod, team-a)")
STACK_PREFIX = "payment-webhooks-"
# Tags under this prefix are webhookctl's own (the suffix tag proves a stack is ours before a recreate).
TAG_PREFIX = "webhookctl:"
SUFFIX_TAG = TAG_PREFIX + "suffix"
FUNCTIONS = ("receiver", "processor", "audit", "sweeper")
# The AWS services the functions call (runtime.py makes one client of each); the layer ships only their models.
SDK_SERVICES = ("dynamodb", "events", "secretsmanager", "sqs")
# Every provider the receiver verifies (webhook_common.providers.PROVIDERS, which a test holds to this list).
PROVIDERS = ("stripe", "adyen", "square", "checkout", "razorpay", "paddle", "standard", "github")


def stack_name(suffix: str) -> str:
    return STACK_PREFIX + suffix


def suffix_of(stack: str) -> str:
    return stack.removeprefix(STACK_PREFIX)


def resource_name(kind: str, suffix: str) -> str:
    """`webhook-{kind}-{suffix}`: queues, topic, secret, functions and roles (the seed's pattern)."""
    return f"webhook-{kind}-{suffix}"


def table_name(suffix: str) -> str:
    return f"PaymentWebhooks-{suffix}"


def function_name(role: str, suffix: str) -> str:
    return resource_name(role, suffix)


def function_log_group(role: str, suffix: str) -> str:
    return f"/aws/lambda/{function_name(role, suffix)}"


def alarm_name(subject: str, suffix: str) -> str:
    return f"{stack_name(suffix)}-{subject}"


def event_bus_name(suffix: str) -> str:
    return f"payment-events-{suffix}"
