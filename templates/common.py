"""Small pieces several builders share: ARNs from pseudo parameters, the deny-without-TLS statement, the WAF log
group name, deletion policies and checkov suppressions."""

from __future__ import annotations

from awacs.aws import Bool, Condition, Deny, Principal, Statement
from troposphere import Sub

from webhookctl.handlers.webhook_common.contract import names

TLS_ONLY_SID = "DenyWithoutTls"


def account_arn(service: str, resource: str, region: bool = True) -> Sub:
    """`arn:<partition>:<service>:<region>:<account>:<resource>` for this stack's account."""
    where = "${AWS::Region}" if region else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{where}:${{AWS::AccountId}}:{resource}")


def event_bus_arn(suffix: str) -> Sub:
    """The bus's ARN from its name: the key policy needs it, and GetAtt would make key and bus a cycle."""
    return account_arn("events", f"event-bus/{names.event_bus_name(suffix)}")


def root_principal() -> Principal:
    """The account itself: in a resource policy this delegates to the account's IAM policies."""
    return Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"))


def deny_without_tls(actions: list, resources: list) -> Statement:
    """Deny every listed action over plain HTTP, whoever asks."""
    return Statement(Sid=TLS_ONLY_SID, Effect=Deny, Principal=Principal("*"), Action=actions,
                     Resource=resources, Condition=Condition(Bool("aws:SecureTransport", "false")))


def service(name: str) -> Sub:
    """A regional service endpoint name, as kms:ViaService and logs principals spell it."""
    return Sub(f"{name}.${{AWS::Region}}.amazonaws.com")


def waf_log_group_name(stack_name: str) -> str:
    """The WAF log group's name: WAF delivers only to log groups whose name starts with `aws-waf-logs-`."""
    return f"aws-waf-logs-{stack_name}"


def keep_on_delete(retain: bool) -> dict[str, str]:
    """DeletionPolicy and UpdateReplacePolicy: Retain keeps the resource when the stack deletes or replaces it."""
    policy = "Retain" if retain else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


def checkov_skips(*reasons: tuple[str, str]) -> dict:
    """Resource Metadata that tells checkov why each listed check does not apply: (check id, one-line reason)."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in reasons]}}
