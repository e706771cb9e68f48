"""A regional WebACL on the stage: per-IP rate limit, with the providers' own CIDRs exempt from it."""

from __future__ import annotations

from troposphere import GetAtt, Sub, Template
from troposphere import wafv2 as waf

from .api import Api
from .settings import Settings


def add_waf(t: Template, s: Settings, api: Api) -> waf.WebACL:
    # Providers deliver from a handful of IPs: a per-IP limit could block them during a retry storm,
    # so their CIDRs are not counted by the rate rule.
    trusted = t.add_resource(waf.IPSet(
        "TrustedProviderIps", Name=f"{s.stack_name}-trusted", Scope="REGIONAL", IPAddressVersion="IPV4",
        Addresses=list(s.trusted_cidrs),
        Description="Payment provider source CIDRs exempt from the rate limit"))
    acl = t.add_resource(waf.WebACL(
        "WebAcl", Name=s.stack_name, Scope="REGIONAL",
        DefaultAction=waf.DefaultAction(Allow=waf.AllowAction()),
        VisibilityConfig=_visibility(s.stack_name),
        Rules=[waf.WebACLRule(
            Name="rate-limit-per-ip", Priority=1, Action=waf.RuleAction(Block=waf.BlockAction()),
            Statement=waf.Statement(RateBasedStatement=waf.RateBasedStatement(
                Limit=s.waf_rate_limit, EvaluationWindowSec=s.waf_window_seconds, AggregateKeyType="IP",
                ScopeDownStatement=waf.Statement(NotStatement=waf.NotStatement(Statement=waf.Statement(
                    IPSetReferenceStatement=waf.IPSetReferenceStatement(Arn=GetAtt(trusted, "Arn")))))),
            ),
            VisibilityConfig=_visibility(f"{s.stack_name}-rate-limit"))],
    ))
    t.add_resource(waf.WebACLAssociation(
        "WebAclAssociation", WebACLArn=GetAtt(acl, "Arn"),
        ResourceArn=Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}",
                        Api=api.rest_api.ref(), Stage=api.stage.ref())))
    return acl


def _visibility(metric: str) -> waf.VisibilityConfig:
    return waf.VisibilityConfig(CloudWatchMetricsEnabled=True, MetricName=metric.replace("-", ""),
                                SampledRequestsEnabled=True)
