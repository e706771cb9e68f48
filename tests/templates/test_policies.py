"""KMS key policy and IAM: the CloudWatch grant, service conditions, least privilege everywhere."""

from __future__ import annotations

import pytest

from tests.templates.conftest import of_type, props
from tests.templates.iam_data import all_policies, as_list, wildcard_only


def key_statements(resources: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in props(resources, "EncryptionKey")["KeyPolicy"]["Statement"]}


def test_key_rotation_and_delete_policies(resources):
    key = resources["EncryptionKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_cloudwatch_may_encrypt_alarm_notifications_for_this_stack_only(resources):
    grant = key_statements(resources)["CloudWatchAlarmsPublishToEncryptedTopic"]
    assert grant["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert grant["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    assert grant["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(":alarm:payment-webhooks-qa7-*")


def test_services_use_the_key_only_through_themselves(resources):
    statements = key_statements(resources)
    use = statements["UseThroughStackServices"]
    via = use["Condition"]["StringEquals"]["kms:ViaService"]
    assert [v["Fn::Sub"].split(".")[0] for v in via] == ["dynamodb", "sqs", "sns", "lambda", "secretsmanager"]
    assert "kms:CallerAccount" in use["Condition"]["StringEquals"]
    logs = statements["CloudWatchLogsEncryptsStackLogGroups"]
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    admin = statements["AccountAdministersKey"]
    assert "kms:PutKeyPolicy" in admin["Action"]  # the account can always fix the policy
    assert not {"kms:Decrypt", "kms:Encrypt"} & set(admin["Action"])
    assert "kms:ListAliases" not in admin["Action"]  # IAM-only: in a key policy it grants nothing


def test_no_wildcard_actions_anywhere(resources):
    policies = all_policies(resources)
    assert len(policies) == 9  # four roles, the key, three queues, the topic
    for policy in policies:
        for statement in policy.document["Statement"]:
            for action in as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), (policy.logical_id, action)


def test_star_resources_only_where_aws_requires_them(resources):
    """Outside key policies (where "*" is the key), Allow "*" only for actions AWS's data says accept nothing else."""
    stars = set()
    for policy in all_policies(resources):
        for statement in policy.document["Statement"]:
            if policy.kind == "key" or statement["Effect"] != "Allow" or "*" not in as_list(statement["Resource"]):
                continue
            stars |= set(as_list(statement["Action"]))
            assert all(wildcard_only(a) for a in as_list(statement["Action"])), (policy.logical_id, statement)
    assert stars == {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}


def test_no_allow_to_anyone(resources):
    for policy in all_policies(resources):
        for statement in policy.document["Statement"]:
            if statement["Effect"] == "Allow":
                assert statement.get("Principal") not in ("*", {"AWS": "*"}), policy.logical_id


def role_grants(resources: dict, role: str) -> dict[str, list]:
    """action -> resources, over the role's only policy."""
    (policy,) = props(resources, role)["Policies"]
    grants: dict[str, list] = {}
    for statement in policy["PolicyDocument"]["Statement"]:
        for action in statement["Action"]:
            grants.setdefault(action, []).extend(statement["Resource"])
    return grants


ARN = {"table": {"Fn::GetAtt": ["WebhookTable", "Arn"]}, "queue": {"Fn::GetAtt": ["ProcessingQueue", "Arn"]},
       "key": {"Fn::GetAtt": ["EncryptionKey", "Arn"]}, "stream": {"Fn::GetAtt": ["WebhookTable", "StreamArn"]},
       "failures": {"Fn::GetAtt": ["AuditFailureQueue", "Arn"]}, "bus": {"Fn::GetAtt": ["PaymentEventBus", "Arn"]}}


@pytest.mark.parametrize(("role", "expected"), [
    ("ReceiverRole", {"dynamodb:GetItem": ["table"], "dynamodb:PutItem": ["table"], "dynamodb:Query": ["table"],
                      "dynamodb:UpdateItem": ["table"], "sqs:SendMessage": ["queue"],
                      "kms:Decrypt": ["key"], "kms:GenerateDataKey": ["key"]}),
    ("ProcessorRole", {"sqs:ReceiveMessage": ["queue"], "sqs:DeleteMessage": ["queue"],
                       "sqs:ChangeMessageVisibility": ["queue"], "sqs:GetQueueAttributes": ["queue"],
                       "dynamodb:GetItem": ["table"], "dynamodb:UpdateItem": ["table"],
                       "events:PutEvents": ["bus"], "kms:Decrypt": ["key"], "kms:GenerateDataKey": ["key"]}),
    ("AuditRole", {"dynamodb:DescribeStream": ["stream"], "dynamodb:GetRecords": ["stream"],
                   "dynamodb:GetShardIterator": ["stream"], "sqs:SendMessage": ["failures"],
                   "kms:Decrypt": ["key"], "kms:GenerateDataKey": ["key"]}),
])
def test_each_role_gets_exactly_what_its_function_uses(resources, role, expected):
    grants = role_grants(resources, role)
    log_group = {"Fn::GetAtt": [role.replace("Role", "LogGroup"), "Arn"]}
    common = {"logs:CreateLogStream": [log_group], "logs:PutLogEvents": [log_group],
              "xray:PutTraceSegments": ["*"], "xray:PutTelemetryRecords": ["*"]}
    specific = {a: [ARN[r] for r in rs] for a, rs in expected.items()}
    if role == "ReceiverRole":
        specific["secretsmanager:GetSecretValue"] = [{"Ref": "SigningSecrets"}]
    if role == "AuditRole":
        specific["dynamodb:ListStreams"] = ["*"]  # the event source mapping needs it; "*" is all it accepts
    assert grants == {**common, **specific}


def test_roles_are_assumable_by_lambda_only(resources):
    for role in of_type(resources, "AWS::IAM::Role").values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert statement["Action"] == ["sts:AssumeRole"]
