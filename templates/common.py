"""Small pieces several builders share: ARNs from pseudo parameters, and the deny-without-TLS statement."""

from __future__ import annotations

from awacs.aws import Bool, Condition, Deny, Principal, Statement
from troposphere import Sub

TLS_ONLY_SID = "DenyWithoutTls"


def account_arn(service: str, resource: str, region: bool = True) -> Sub:
    """`arn:<partition>:<service>:<region>:<account>:<resource>` for this stack's account."""
    where = "${AWS::Region}" if region else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{where}:${{AWS::AccountId}}:{resource}")


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
