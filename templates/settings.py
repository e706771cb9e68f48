"""The frozen settings every template builder reads: the seed's defaults, validated once.

Pure: no boto3, no I/O, no troposphere (every command may import this module). `Settings.from_overrides`
is how `--set KEY=VALUE` arrives. Settings that become a function's environment variable take their
default and bounds from the contract's `EnvVar`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webhookctl.handlers.webhook_common.contract import environment as env
from webhookctl.handlers.webhook_common.contract import names
from webhookctl.handlers.webhook_common.contract.names import SUFFIX_PATTERN, SUFFIX_RULE

from . import provider_ranges

ACCOUNT_PATTERN = re.compile(r"^[0-9]{12}$")
EMAIL_PATTERN = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
# WAF rate-based rules evaluate over one of these windows.
WAF_WINDOWS = (60, 120, 300, 600)
# What the AWS managed rule groups do with a match: block, or only count it (to try them on live traffic).
WAF_MANAGED_ACTIONS = ("block", "count")


class SettingsError(ValueError):
    """One or more settings break their rule; the message lists each with the rule."""


def _between(low: int, high: int) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: low <= v <= high), f"an integer from {low} to {high}"


def _one_of(values: tuple[int, ...]) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v in values), "one of " + ", ".join(map(str, values))


def _choice(values: tuple[str, ...]) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v in values), "one of " + ", ".join(values)


def _setting(default: Any, rule: tuple[Callable[[Any], bool], str] | None, doc: str) -> Any:
    return field(default=default, metadata={"rule": rule, "doc": doc})


def _env_setting(variable: env.EnvVar) -> Any:
    """A setting that becomes VARIABLE: the contract's default, bounds and meaning."""
    return _setting(variable.default, (variable.valid, variable.rule), variable.doc)


def _valid_emails(values: tuple[str, ...]) -> bool:
    return all(EMAIL_PATTERN.match(v) for v in values)


def _valid_accounts(values: tuple[str, ...]) -> bool:
    return all(ACCOUNT_PATTERN.match(v) for v in values)


def _valid_cidrs(values: tuple[str, ...]) -> bool:
    try:
        return all(isinstance(ipaddress.ip_network(v, strict=True), ipaddress.IPv4Network) for v in values)
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    """Everything the stack's shape depends on. Defaults are the seed's."""

    suffix: str = _setting("dev", (SUFFIX_PATTERN.match, SUFFIX_RULE), "environment suffix in every name")
    receiver_reserved_concurrency: int = _setting(10, _between(1, 1000), "receiver reserved concurrency")
    processor_reserved_concurrency: int = _setting(5, _between(2, 1000), "processor reserved concurrency")
    processor_max_concurrency: int = _setting(
        5, _between(2, 1000), "SQS event source MaximumConcurrency (<= processor reserved concurrency)")
    api_rate_limit: int = _setting(1000, _between(1, 10000), "stage throttling, requests/s")
    api_burst_limit: int = _setting(2000, _between(0, 5000), "stage throttling burst")
    waf_rate_limit: int = _setting(600, _between(10, 2_000_000_000), "WAF requests per IP per window")
    waf_window_seconds: int = _setting(300, _one_of(WAF_WINDOWS), "WAF rate evaluation window, seconds")
    trusted_cidrs: tuple[str, ...] = _setting(
        (), (_valid_cidrs, "comma-separated IPv4 CIDRs such as 192.0.2.0/24"),
        "source CIDRs the WAF rate rule does not count (payment providers' IPs)")
    alert_emails: tuple[str, ...] = _setting(
        (), (_valid_emails, "comma-separated e-mail addresses such as oncall@example.com"),
        "addresses subscribed to the alert topic (each confirms by e-mail)")
    dlq_retention_days: int = _setting(14, _between(1, 14), "dead-letter queue retention, days")
    processing_retention_days: int = _setting(4, _between(1, 14), "processing queue retention, days")
    max_receive_count: int = _setting(3, _between(1, 1000), "receives before a message goes to the DLQ")
    receiver_timeout: int = _setting(10, _between(1, 29), "receiver timeout, s (API Gateway waits 29 s)")
    processor_timeout: int = _setting(30, _between(1, 900), "processor timeout, s")
    audit_timeout: int = _setting(30, _between(1, 900), "audit timeout, s")
    queue_visibility_timeout: int = _setting(
        180, _between(0, 43200), "processing queue visibility timeout, s (>= 6 x processor timeout)")
    receiver_memory: int = _setting(256, _between(128, 10240), "receiver memory, MB")
    processor_memory: int = _setting(256, _between(128, 10240), "processor memory, MB")
    audit_memory: int = _setting(256, _between(128, 10240), "audit memory, MB")
    processor_batch_size: int = _setting(10, _between(1, 10), "SQS messages per processor invocation")
    audit_batch_size: int = _setting(100, _between(1, 10000), "stream records per audit invocation")
    audit_max_retry_attempts: int = _setting(3, _between(0, 10000), "stream batch retries before discard")
    audit_max_record_age: int = _setting(
        3600, _between(60, 604800), "oldest stream record retried, s, before it goes to the failure queue")
    log_retention_days: int = _setting(30, _one_of(LOG_RETENTION_DAYS), "log retention, days")
    event_ttl_days: int = _env_setting(env.EVENT_TTL_DAYS)
    replay_guard_days: int = _env_setting(env.REPLAY_GUARD_DAYS)
    secrets_cache_seconds: int = _env_setting(env.SECRETS_CACHE_SECONDS)
    sweep_grace_seconds: int = _env_setting(env.SWEEP_GRACE_SECONDS)
    sweep_interval_minutes: int = _setting(5, _between(1, 60), "minutes between the sweeper's runs")
    sweeper_timeout: int = _setting(60, _between(10, 900), "sweeper timeout, s")
    queue_age_alarm_seconds: int = _setting(
        600, _between(60, 1209600), "alarm when the oldest processing message is this old, s")
    api_5xx_alarm_threshold: int = _setting(5, _between(1, 1000000), "API 5XX responses per 5 min that alarm")
    signature_rejection_alarm_percent: int = _setting(
        50, _between(1, 100), "alarm when this share of a provider's requests in 5 min fail verification (at least 5)")
    receiver_latency_ms: int = _setting(
        100, _between(1, 29000), "expected receiver latency, ms (for the capacity check only)")
    waf_managed_rules_action: str = _setting(
        "block", _choice(WAF_MANAGED_ACTIONS),
        "what the AWS managed WAF rule groups (known bad inputs, IP reputation) do with a match: block, or "
        "count (only log it, to try the rules on live traffic)")
    provider_cidrs: tuple[str, ...] = _setting(
        (), None,
        "if set, only these sources may call the API (a resource policy denies every other IP): comma-separated "
        "IPv4/IPv6 CIDRs and provider names from templates/provider_ranges.py (" + ", ".join(
            sorted(provider_ranges.PUBLISHED)) + "); empty: any source. Signatures are still checked")
    acknowledge_capacity: bool = _setting(
        False, None, "the capacity warning below is understood (the receiver's concurrency cannot carry the stage's "
        "throttle rate): do not repeat it")
    retain_data: bool = _setting(
        False, None, "keep the table, the key and the audit log group when the stack is deleted or replaces them")
    audit_log_retention_days: int = _setting(
        365, _one_of(LOG_RETENTION_DAYS), "audit function log retention, days (PCI DSS 10.5.1: at least a year)")

    publish_ignored: bool = _setting(env.PUBLISH_IGNORED.default, None, env.PUBLISH_IGNORED.doc)
    event_archive_days: int = _setting(
        30, _between(0, 3650), "days the bus's archive keeps every published event for replay; 0: no archive")
    consumer_accounts: tuple[str, ...] = _setting(
        (), (_valid_accounts, "comma-separated 12-digit AWS account ids"),
        "other accounts that may create rules on the bus to route its events to themselves")

    def __post_init__(self) -> None:
        problems = [p for f in dataclasses.fields(self) if (p := _check_field(self, f))]
        if self.processor_max_concurrency > self.processor_reserved_concurrency:
            problems.append(
                f"processor_max_concurrency={self.processor_max_concurrency} must not exceed "
                f"processor_reserved_concurrency={self.processor_reserved_concurrency}: throttled "
                "batches go back to the queue and burn receive counts")
        if self.queue_visibility_timeout < 6 * self.processor_timeout:
            problems.append(
                f"queue_visibility_timeout={self.queue_visibility_timeout} must be at least 6 x "
                f"processor_timeout={self.processor_timeout} (= {6 * self.processor_timeout}), as AWS "
                "advises for SQS-triggered functions; raise it or lower processor_timeout")
        if self.replay_guard_days <= self.event_ttl_days:
            problems.append(f"replay_guard_days={self.replay_guard_days} must exceed event_ttl_days="
                            f"{self.event_ttl_days}: a tombstone must outlive the event it guards")
        if self.processing_retention_days > self.dlq_retention_days:
            problems.append("processing_retention_days must not exceed dlq_retention_days: SQS keeps a "
                            "message's original enqueue time when it moves to the DLQ")
        problems.extend(provider_ranges.entry_problems(self.provider_cidrs))
        if problems:
            raise SettingsError("; ".join(problems))

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, str], **values: Any) -> Settings:
        """Settings from `--set` strings (coerced by field type) on top of typed values."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise SettingsError(f"unknown setting {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
        coerced = {name: _coerce(fields[name], raw) for name, raw in overrides.items()}
        return cls(**{**values, **coerced})

    def own_capacity_warnings(self) -> list[str]:
        """The capacity warnings these settings cause that the defaults do not: what render repeats."""
        defaults = Settings(suffix=self.suffix).capacity_warnings()
        return [w for w in self.capacity_warnings() if w not in defaults]

    def capacity_warnings(self) -> list[str]:
        """Ways these settings cannot carry the traffic the stage admits (warnings, not errors)."""
        receiver_rps = self.receiver_reserved_concurrency * 1000 // self.receiver_latency_ms
        if receiver_rps >= self.api_rate_limit or self.acknowledge_capacity:
            return []
        return [f"the stage admits {self.api_rate_limit} requests/s, but receiver_reserved_concurrency="
                f"{self.receiver_reserved_concurrency} at ~{self.receiver_latency_ms} ms each carries about "
                f"{receiver_rps}/s; beyond that API Gateway answers 5XX and providers retry. Raise "
                "receiver_reserved_concurrency or lower api_rate_limit with --set (or acknowledge_capacity=true)."]

    # Names: every physical name carries the suffix, and is derived in contract.names only.
    @property
    def stack_name(self) -> str:
        return names.stack_name(self.suffix)

    def name(self, kind: str) -> str:
        """`webhook-{kind}-{suffix}`, the pattern of the seed's queue and topic names."""
        return names.resource_name(kind, self.suffix)


def _check_field(settings: Settings, f: dataclasses.Field) -> str | None:
    rule = f.metadata.get("rule")
    value = getattr(settings, f.name)
    if f.type in ("bool", bool):
        return None if isinstance(value, bool) else f"{f.name}={value!r} must be true or false"
    expected = str if f.type in ("str", str) else tuple if "tuple" in str(f.type) else int
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{f.name}={value!r} must be {rule[1] if rule else 'an integer'}"
    if rule and not rule[0](value):
        shown = ",".join(value) if isinstance(value, tuple) else value
        return f"{f.name}={shown!r} must be {rule[1]}"
    return None


def _coerce(f: dataclasses.Field, raw: str) -> Any:
    if "tuple" in str(f.type):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if f.type in ("bool", bool):
        if raw.strip().lower() not in ("true", "false"):
            raise SettingsError(f"{f.name}={raw!r} must be true or false")
        return raw.strip().lower() == "true"
    if f.type in ("int", int):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{f.name}={raw!r} must be {f.metadata['rule'][1]}") from None
    return raw


def describe_settings() -> list[tuple[str, str, str]]:
    """(name, default, description) for every setting, for --help and the README."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = ",".join(f.default) if isinstance(f.default, tuple) else str(f.default)
        default = default.lower() if isinstance(f.default, bool) else default
        rows.append((f.name, default or "(none)", f.metadata["doc"]))
    return rows


def retention_notice(settings: Settings) -> str | None:
    """The one line deploy prints when deleting the stack would leave data behind, else None."""
    if not settings.retain_data:
        return None
    return (f"retain_data=true: the table {names.table_name(settings.suffix)}, the KMS key and the audit log group "
            f"{names.function_log_group('audit', settings.suffix)} stay when the stack is deleted")
