"""A regional WebACL on the stage: AWS's managed rules for bad inputs and bad IPs, a per-IP rate limit with the
providers' own CIDRs exempt from it, and logs (signature headers redacted) in a log group under the stack's key."""

from __future__ import annotations

from troposphere import GetAtt, Sub, Template
from troposphere import logs as tlogs
from troposphere import wafv2 as waf

from .api import Api
from .common import waf_log_group_name
from .settings import Settings

# AWS's rule groups that are safe for JSON webhook bodies, in evaluation order: (rule name, group name).
# IP reputation costs 25 WCU, known bad inputs (Log4j, Java deserialization, ...) 200: within the 1500 WCU
# an ACL gets at its base price.
MANAGED_RULE_GROUPS = (
    ("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList"),
    ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
)
# OverrideAction None keeps each group's own verdicts; Count turns every match into a count (a trial run).
OVERRIDES = {"block": {"None": {}}, "count": {"Count": {}}}
# Every header a provider carries its signature or shared secret in (webhook_common.providers): WAF logs
# request headers, and these must not reach the logs. WAF accepts at most 100 RedactedFields.
SIGNATURE_HEADERS = (
    "stripe-signature", "x-square-hmacsha256-signature", "cko-signature", "authorization",
    "x-razorpay-signature", "paddle-signature", "x-hub-signature-256", "webhook-signature",
)


def add_waf(t: Template, s: Settings, api: Api) -> waf.WebACL:
    managed = [_managed_rule(s, priority, name, group)
               for priority, (name, group) in enumerate(MANAGED_RULE_GROUPS, start=1)]
    acl = t.add_resource(waf.WebACL(
        "WebAcl", Name=s.stack_name, Scope="REGIONAL",
        DefaultAction=waf.DefaultAction(Allow=waf.AllowAction()),
        VisibilityConfig=_visibility(s.stack_name),
        Rules=[*managed, _rate_rule(t, s, priority=len(managed) + 1)],
    ))
    t.add_resource(waf.WebACLAssociation(
        "WebAclAssociation", WebACLArn=GetAtt(acl, "Arn"),
        ResourceArn=Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}",
                        Api=api.rest_api.ref(), Stage=api.stage.ref())))
    _add_logging(t, s, api, acl)
    return acl


def _managed_rule(s: Settings, priority: int, name: str, group: str) -> waf.WebACLRule:
    return waf.WebACLRule(
        Name=name, Priority=priority, OverrideAction=waf.OverrideAction(**OVERRIDES[s.waf_managed_rules_action]),
        Statement=waf.Statement(ManagedRuleGroupStatement=waf.ManagedRuleGroupStatement(VendorName="AWS", Name=group)),
        VisibilityConfig=_visibility(f"{s.stack_name}-{name}"))


def _rate_rule(t: Template, s: Settings, priority: int) -> waf.WebACLRule:
    # Providers deliver from a handful of IPs: a per-IP limit could block them during a retry storm,
    # so their CIDRs are not counted by the rate rule.
    trusted = t.add_resource(waf.IPSet(
        "TrustedProviderIps", Name=f"{s.stack_name}-trusted", Scope="REGIONAL", IPAddressVersion="IPV4",
        Addresses=list(s.trusted_cidrs),
        Description="Payment provider source CIDRs exempt from the rate limit"))
    return waf.WebACLRule(
        Name="rate-limit-per-ip", Priority=priority, Action=waf.RuleAction(Block=waf.BlockAction()),
        Statement=waf.Statement(RateBasedStatement=waf.RateBasedStatement(
            Limit=s.waf_rate_limit, EvaluationWindowSec=s.waf_window_seconds, AggregateKeyType="IP",
            ScopeDownStatement=waf.Statement(NotStatement=waf.NotStatement(Statement=waf.Statement(
                IPSetReferenceStatement=waf.IPSetReferenceStatement(Arn=GetAtt(trusted, "Arn")))))),
        ),
        VisibilityConfig=_visibility(f"{s.stack_name}-rate-limit"))


def _add_logging(t: Template, s: Settings, api: Api, acl: waf.WebACL) -> waf.LoggingConfiguration:
    logs = t.add_resource(tlogs.LogGroup(
        "WafLogGroup", LogGroupName=waf_log_group_name(s.stack_name), RetentionInDays=s.log_retention_days,
        KmsKeyId=GetAtt(api.log_key, "Arn"), DeletionPolicy="Delete", UpdateReplacePolicy="Delete"))
    # No AWS::Logs::ResourcePolicy: enabling logging makes WAF add delivery.logs.amazonaws.com to the account's
    # log resource policy itself (docs: AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html).
    return t.add_resource(waf.LoggingConfiguration(
        "WafLogging", ResourceArn=GetAtt(acl, "Arn"),
        # WAF wants the documented log group ARN, without the ":*" that GetAtt Arn carries.
        LogDestinationConfigs=[Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Logs}",
                                   Logs=logs.ref())],
        RedactedFields=[waf.LoggingConfigurationFieldToMatch(SingleHeader=waf.SingleHeader(Name=header))
                        for header in SIGNATURE_HEADERS]))


def _visibility(metric: str) -> waf.VisibilityConfig:
    return waf.VisibilityConfig(CloudWatchMetricsEnabled=True, MetricName=metric.replace("-", ""),
                                SampledRequestsEnabled=True)
