"""Settings: the seed's defaults, every rule enforced with a message that states it."""

from __future__ import annotations

import pytest

from webhookctl.templates import Settings, SettingsError
from webhookctl.templates.settings import describe_settings, retention_notice


def test_defaults_are_the_seeds():
    s = Settings()
    assert (s.suffix, s.receiver_reserved_concurrency, s.processor_reserved_concurrency) == ("dev", 10, 5)
    assert (s.api_rate_limit, s.api_burst_limit, s.waf_rate_limit) == (1000, 2000, 600)
    assert (s.dlq_retention_days, s.max_receive_count) == (14, 3)
    assert s.queue_visibility_timeout >= 6 * s.processor_timeout
    assert s.stack_name == "payment-webhooks-dev"


def test_overrides_are_coerced_by_type():
    s = Settings.from_overrides({"api_rate_limit": "50", "trusted_cidrs": "192.0.2.0/24, 198.51.100.7/32"},
                                suffix="prod")
    assert (s.suffix, s.api_rate_limit, s.trusted_cidrs) == ("prod", 50, ("192.0.2.0/24", "198.51.100.7/32"))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"suffix": "Prod"}, "lowercase letters, digits and hyphens, starting with a letter, at most 20"),
    ({"suffix": "1abc"}, "starting with a letter"),
    ({"suffix": "a" * 21}, "at most 20 characters"),
    ({"suffix": "a_b"}, "lowercase letters, digits and hyphens"),
    ({"no_such": "1"}, "unknown setting no_such; known: acknowledge_capacity, alert_emails, api_5xx_alarm_threshold"),
    ({"api_rate_limit": "fast"}, "api_rate_limit='fast' must be an integer from 1 to 10000"),
    ({"api_rate_limit": "0"}, "api_rate_limit=0 must be an integer from 1 to 10000"),
    ({"waf_window_seconds": "30"}, "waf_window_seconds=30 must be one of 60, 120, 300, 600"),
    ({"log_retention_days": "8"}, "log_retention_days=8 must be one of 1, 3, 5, 7, 14"),
    ({"receiver_timeout": "30"}, "receiver_timeout=30 must be an integer from 1 to 29"),
    ({"trusted_cidrs": "10.0.0.1/8"}, "trusted_cidrs='10.0.0.1/8' must be comma-separated IPv4 CIDRs"),
    ({"trusted_cidrs": "2001:db8::/32"}, "must be comma-separated IPv4 CIDRs"),
    ({"processor_timeout": "31"}, "queue_visibility_timeout=180 must be at least 6 x processor_timeout=31"),
    ({"processor_max_concurrency": "6"}, "processor_max_concurrency=6 must not exceed processor_reserved"),
    ({"processor_reserved_concurrency": "1"}, "processor_reserved_concurrency=1 must be an integer from 2"),
    ({"processing_retention_days": "14", "dlq_retention_days": "7"}, "must not exceed dlq_retention_days"),
    ({"waf_managed_rules_action": "allow"}, "waf_managed_rules_action='allow' must be one of block, count"),
    ({"provider_cidrs": "adyen"}, "provider_cidrs='adyen': Adyen publishes no list of webhook IPs"),
    ({"provider_cidrs": "stripe,Checkout"}, "provider_cidrs='Checkout': Checkout.com publishes its webhook IPs"),
    ({"provider_cidrs": "10.0.0.1/8"}, "provider_cidrs='10.0.0.1/8' must be an IPv4 or IPv6 CIDR such as 192.0.2.0/24, "
                                       "or a provider with a published list: github, paddle, paddle-sandbox"),
    ({"provider_cidrs": "stipe"}, "provider_cidrs='stipe' must be an IPv4 or IPv6 CIDR"),
    ({"provider_cidrs": ",".join(f"2001:db8:{n:x}::/48" for n in range(151))},
     "provider_cidrs expands to 151 CIDRs; at most 150 fit in an API Gateway resource policy"),
    ({"retain_data": "yes"}, "retain_data='yes' must be true or false"),
    ({"audit_log_retention_days": "8"}, "audit_log_retention_days=8 must be one of 1, 3, 5, 7, 14"),
])
def test_each_rule_is_stated_when_broken(overrides, message):
    with pytest.raises(SettingsError, match=None) as error:
        Settings.from_overrides(overrides)
    assert message in str(error.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(SettingsError) as error:
        Settings.from_overrides({"api_rate_limit": "0", "waf_rate_limit": "1"})
    assert "api_rate_limit=0" in str(error.value) and "waf_rate_limit=1" in str(error.value)


def test_capacity_warning_states_the_numbers_and_goes_away_when_capacity_fits():
    (warning,) = Settings().capacity_warnings()
    assert "admits 1000 requests/s" in warning and "receiver_reserved_concurrency=10" in warning
    assert "about 100/s" in warning
    assert Settings.from_overrides({"receiver_reserved_concurrency": "100"}).capacity_warnings() == []


def test_new_settings_default_to_the_unrestricted_stack():
    s = Settings()
    assert (s.waf_managed_rules_action, s.provider_cidrs, s.retain_data) == ("block", (), False)
    assert (s.log_retention_days, s.audit_log_retention_days) == (30, 365)


def test_provider_cidrs_and_retain_data_from_strings():
    s = Settings.from_overrides({"provider_cidrs": "stripe, 2001:db8::/32", "retain_data": "TRUE"})
    assert (s.provider_cidrs, s.retain_data) == (("stripe", "2001:db8::/32"), True)
    assert Settings.from_overrides({"retain_data": "false"}).retain_data is False


def test_retention_notice_only_when_data_stays():
    assert retention_notice(Settings()) is None
    assert retention_notice(Settings.from_overrides({"retain_data": "true"}, suffix="prod")) == (
        "retain_data=true: the table PaymentWebhooks-prod, the KMS key and the audit log group "
        "/aws/lambda/webhook-audit-prod stay when the stack is deleted")


def test_listed_defaults_read_as_they_are_typed():
    defaults = {name: default for name, default, _ in describe_settings()}
    assert (defaults["retain_data"], defaults["provider_cidrs"], defaults["waf_managed_rules_action"]) == (
        "false", "(none)", "block")
