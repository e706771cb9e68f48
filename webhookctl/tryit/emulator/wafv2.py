"""WAFv2: the web ACL, its IP set, association and logging in templates (moto's CloudFormation has no models)."""

from __future__ import annotations

from webhookctl.tryit.emulator.cloudformation import placeholder_model, register_model
from webhookctl.tryit.emulator.probe import ACCOUNT, REGION, Probe

# WAF has no behaviour a local run can observe (the sandbox's gateway does not filter): each resource gets an
# identity so that Refs and GetAtts to it resolve (a WebACLAssociation needs the WebACL's Arn).
WEB_ACL_ARN = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/probe/probe"
VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "probe"}


def patch_ip_set_model() -> None:
    """AWS::WAFv2::IPSet gets an identity; Arn like AWS's."""
    register_model(placeholder_model("AWS::WAFv2::IPSet",
                                     "arn:aws:wafv2:{region}:{account}:regional/ipset/{name}/{name}"))


def cloudformation_ignores_ip_sets(aws: Probe) -> bool:
    """A Ref to an AWS::WAFv2::IPSet resolves to nothing."""
    return aws.ignores("AWS::WAFv2::IPSet", {"Name": "probe", "Scope": "REGIONAL", "IPAddressVersion": "IPV4",
                                             "Addresses": ["192.0.2.0/24"]})


def patch_web_acl_model() -> None:
    """AWS::WAFv2::WebACL gets an identity; Arn like AWS's."""
    register_model(placeholder_model("AWS::WAFv2::WebACL",
                                     "arn:aws:wafv2:{region}:{account}:regional/webacl/{name}/{name}"))


def cloudformation_ignores_web_acls(aws: Probe) -> bool:
    """A Ref to an AWS::WAFv2::WebACL resolves to nothing."""
    return aws.ignores("AWS::WAFv2::WebACL", {"Name": "probe", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
                                              "VisibilityConfig": VISIBILITY, "Rules": []})


def patch_web_acl_association_model() -> None:
    """AWS::WAFv2::WebACLAssociation gets an identity."""
    register_model(placeholder_model("AWS::WAFv2::WebACLAssociation"))


def cloudformation_ignores_web_acl_associations(aws: Probe) -> bool:
    """A Ref to an AWS::WAFv2::WebACLAssociation resolves to nothing."""
    stage = f"arn:aws:apigateway:{REGION}::/restapis/probe/stages/live"
    return aws.ignores("AWS::WAFv2::WebACLAssociation", {"ResourceArn": stage, "WebACLArn": WEB_ACL_ARN})


def patch_logging_configuration_model() -> None:
    """AWS::WAFv2::LoggingConfiguration gets an identity (moto skips the type, and logs that it does on every
    deploy)."""
    register_model(placeholder_model("AWS::WAFv2::LoggingConfiguration"))


def cloudformation_ignores_logging_configurations(aws: Probe) -> bool:
    """A Ref to an AWS::WAFv2::LoggingConfiguration resolves to nothing."""
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-waf-logs-probe"
    return aws.ignores("AWS::WAFv2::LoggingConfiguration", {"ResourceArn": WEB_ACL_ARN,
                                                            "LogDestinationConfigs": [log_group]})
