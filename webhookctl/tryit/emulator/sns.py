"""SNS: AWS::SNS::TopicPolicy in templates (moto's CloudFormation has no model for it)."""

from __future__ import annotations

from webhookctl.tryit.emulator.cloudformation import placeholder_model, register_model
from webhookctl.tryit.emulator.probe import Probe


def patch_topic_policy_model() -> None:
    """A topic policy has no behaviour a local run can observe; it gets an identity so Refs to it resolve."""
    register_model(placeholder_model("AWS::SNS::TopicPolicy"))


def cloudformation_ignores_topic_policies(aws: Probe) -> bool:
    """A Ref to an AWS::SNS::TopicPolicy resolves to nothing."""
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                             "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}]}
    return aws.ignores("AWS::SNS::TopicPolicy", {"Topics": [{"Ref": "Topic"}], "PolicyDocument": policy},
                       Topic={"Type": "AWS::SNS::Topic"})
