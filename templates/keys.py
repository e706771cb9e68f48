"""The customer-managed KMS key that encrypts every store, queue, topic, secret and log of the stack."""

from __future__ import annotations

from dataclasses import dataclass

import awacs.kms as kms
from awacs.aws import (
    Allow,
    ArnLike,
    Bool,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Sub, Template
from troposphere import kms as tkms

from webhookctl.handlers.webhook_common.contract import names

from .common import account_arn, event_bus_arn, keep_on_delete, root_principal, service, waf_log_group_name
from .settings import Settings

# Key administration for the account (IAM decides who). Data-plane use is granted separately below,
# so even an account admin can only use the key through the stack's services. kms:ListAliases is not here:
# it has no key resource, so only IAM policies can grant it.
ADMIN_ACTIONS = [
    kms.CancelKeyDeletion, kms.CreateAlias, kms.DeleteAlias, kms.DescribeKey, kms.DisableKey,
    kms.DisableKeyRotation, kms.EnableKey, kms.EnableKeyRotation, kms.GetKeyPolicy,
    kms.GetKeyRotationStatus, kms.ListGrants, kms.ListKeyPolicies, kms.ListKeyRotations,
    kms.ListResourceTags, kms.PutKeyPolicy, kms.RevokeGrant, kms.RetireGrant, kms.RotateKeyOnDemand,
    kms.ScheduleKeyDeletion, kms.TagResource, kms.UntagResource, kms.UpdateAlias, kms.UpdateKeyDescription,
]
USE_ACTIONS = [kms.Encrypt, kms.Decrypt, kms.ReEncryptFrom, kms.ReEncryptTo, kms.GenerateDataKey,
               kms.GenerateDataKeyWithoutPlaintext, kms.DescribeKey]
# The services that encrypt with the key on behalf of this account's principals.
VIA_SERVICES = ("dynamodb", "sqs", "sns", "lambda", "secretsmanager")


@dataclass(frozen=True)
class Keys:
    key: tkms.Key
    alias: tkms.Alias


def add_keys(t: Template, s: Settings) -> Keys:
    key = t.add_resource(tkms.Key(
        "EncryptionKey",
        Description=f"Encrypts the payment webhook pipeline {s.stack_name}",
        EnableKeyRotation=True,
        PendingWindowInDays=7,
        KeyPolicy=_key_policy(s),
        # A retained table or log group is unreadable without the key that encrypts it.
        **keep_on_delete(s.retain_data),
    ))
    alias = t.add_resource(tkms.Alias("EncryptionKeyAlias", AliasName=f"alias/{s.stack_name}",
                                      TargetKeyId=key.ref()))
    return Keys(key, alias)


def _key_policy(s: Settings) -> PolicyDocument:
    return PolicyDocument(Version="2012-10-17", Statement=[
        Statement(Sid="AccountAdministersKey", Effect=Allow, Principal=root_principal(),
                  Action=ADMIN_ACTIONS, Resource=["*"]),
        Statement(Sid="UseThroughStackServices", Effect=Allow, Principal=root_principal(),
                  Action=USE_ACTIONS, Resource=["*"], Condition=_via_services()),
        Statement(Sid="GrantsForAwsResources", Effect=Allow, Principal=root_principal(),
                  Action=[kms.CreateGrant], Resource=["*"],
                  Condition=Condition([*_via_services().conditions,
                                       Bool("kms:GrantIsForAWSResource", "true")])),
        Statement(Sid="CloudWatchLogsEncryptsStackLogGroups", Effect=Allow,
                  Principal=Principal("Service", service("logs")), Action=USE_ACTIONS, Resource=["*"],
                  Condition=Condition(ArnLike("kms:EncryptionContext:aws:logs:arn", [
                      account_arn("logs", f"log-group:{names.function_log_group('*', s.suffix)}"),
                      account_arn("logs", f"log-group:/aws/apigateway/{s.stack_name}-*"),
                      account_arn("logs", f"log-group:{waf_log_group_name(s.stack_name)}"),
                  ]))),
        # Without this grant an alarm deploys cleanly but its notifications to the encrypted topic are
        # dropped: CloudWatch must encrypt the message with this key when it publishes.
        Statement(Sid="CloudWatchAlarmsPublishToEncryptedTopic", Effect=Allow,
                  Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                  Action=[kms.Decrypt, kms.Action("GenerateDataKey*")], Resource=["*"],
                  Condition=Condition([
                      StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                      ArnLike("aws:SourceArn", account_arn("cloudwatch", f"alarm:{names.alarm_name('*', s.suffix)}")),
                  ])),
        # An encrypted bus (and its archive) is unusable until EventBridge may use the key for that bus alone;
        # PutEvents callers need no key permissions of their own.
        Statement(Sid="EventBridgeDescribesKey", Effect=Allow, Principal=Principal("Service", "events.amazonaws.com"),
                  Action=[kms.DescribeKey], Resource=["*"]),
        Statement(Sid="EventBridgeEncryptsStackBus", Effect=Allow,
                  Principal=Principal("Service", "events.amazonaws.com"),
                  Action=[kms.GenerateDataKey, kms.Decrypt, kms.Action("ReEncrypt*")], Resource=["*"],
                  Condition=Condition(StringEquals("kms:EncryptionContext:aws:events:event-bus:arn",
                                                   event_bus_arn(s.suffix)))),
    ])


def _via_services() -> Condition:
    # One StringEquals holding both keys: two StringEquals elements would collapse into one JSON key.
    return Condition(StringEquals({
        "kms:ViaService": [service(name) for name in VIA_SERVICES],
        "kms:CallerAccount": Sub("${AWS::AccountId}"),
    }))
