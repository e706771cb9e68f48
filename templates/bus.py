"""The EventBridge bus the processor publishes each payment event to, its archive, and who may consume it."""

from __future__ import annotations

from dataclasses import dataclass

import awacs.events as ev
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEqualsIfExists
from troposphere import GetAtt, Sub, Template, encode_to_dict
from troposphere import events as tevents

from webhookctl.handlers.webhook_common.contract import names

from .common import account_arn
from .keys import Keys
from .settings import Settings

# What a consumer account needs to route the bus's events to itself: rules (and their targets) that it
# creates and owns. events:creatorAccount pins each rule to the account that created it, so one consumer
# cannot read or redirect another's rules.
CONSUMER_RULE_ACTIONS = [
    ev.PutRule, ev.PutTargets, ev.DeleteRule, ev.RemoveTargets, ev.DisableRule, ev.EnableRule,
    ev.DescribeRule, ev.ListTargetsByRule, ev.TagResource, ev.UntagResource, ev.ListTagsForResource,
]


@dataclass(frozen=True)
class Bus:
    bus: tevents.EventBus
    archive: tevents.Archive | None


def add_bus(t: Template, s: Settings, keys: Keys) -> Bus:
    bus = t.add_resource(tevents.EventBus(
        "PaymentEventBus", Name=names.event_bus_name(s.suffix),
        Description=f"Normalised payment events of {s.stack_name}",
        KmsKeyIdentifier=GetAtt(keys.key, "Arn"),
        # The property is typed as a plain dict, so troposphere takes the policy already encoded.
        **({"Policy": encode_to_dict(_consumer_policy(s))} if s.consumer_accounts else {}),
    ))
    archive = None
    if s.event_archive_days:
        # No EventPattern: every event on the bus is kept, so a consumer that was down can replay all of it.
        archive = t.add_resource(tevents.Archive(
            "PaymentEventArchive", ArchiveName=f"{names.event_bus_name(s.suffix)}-archive",
            Description=f"Every payment event of {s.stack_name}, for replay",
            SourceArn=GetAtt(bus, "Arn"), RetentionDays=s.event_archive_days,
            # An archive is not covered by its bus's key: without its own, AWS encrypts it with an owned key.
            KmsKeyIdentifier=GetAtt(keys.key, "Arn"),
        ))
    return Bus(bus, archive)


def _consumer_policy(s: Settings) -> PolicyDocument:
    rules = account_arn("events", f"rule/{names.event_bus_name(s.suffix)}/*")
    return PolicyDocument(Version="2012-10-17", Statement=[
        Statement(Sid="ConsumerAccountsManageTheirOwnRules", Effect=Allow,
                  Principal=Principal("AWS", [Sub(f"arn:${{AWS::Partition}}:iam::{account}:root")
                                              for account in s.consumer_accounts]),
                  Action=CONSUMER_RULE_ACTIONS, Resource=[rules],
                  Condition=Condition(StringEqualsIfExists("events:creatorAccount", "${aws:PrincipalAccount}"))),
    ])
