"""The key, the policies and the names agree: everything encrypted with the key can still be used.

cfn-lint and CloudFormation accept a key policy that silently locks a service out (the seed's alarm could not
publish to its topic); these checks tie each use of the key to the statement that allows it.
"""

from __future__ import annotations

import fnmatch

from tests.templates.conftest import of_type, props


def key_statement(resources: dict, sid: str) -> dict:
    return next(s for s in props(resources, "EncryptionKey")["KeyPolicy"]["Statement"] if s["Sid"] == sid)


def sub_text(value) -> str:
    """The Fn::Sub pattern with this stack's pseudo parameters filled in as a reader would."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return (text.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "eu-west-1")
            .replace("${AWS::AccountId}", "111122223333"))


def test_every_role_uses_the_key_only_as_the_key_policy_allows(resources):
    use = key_statement(resources, "UseThroughStackServices")
    allowed_services = {sub_text(v) for v in use["Condition"]["StringEquals"]["kms:ViaService"]}
    for role in of_type(resources, "AWS::IAM::Role").values():
        for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            if not any(a.startswith("kms:") for a in statement["Action"]):
                continue
            assert set(statement["Action"]) <= set(use["Action"])
            via = {sub_text(v) for v in statement["Condition"]["StringEquals"]["kms:ViaService"]}
            assert via and via <= allowed_services


def test_every_log_group_is_one_cloudwatch_logs_may_encrypt_for(resources):
    patterns = [sub_text(p) for p in key_statement(resources, "CloudWatchLogsEncryptsStackLogGroups")
                ["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]]
    groups = of_type(resources, "AWS::Logs::LogGroup")
    # four functions, the API's access logs, and the WAF's logs (whose name WAF requires to start aws-waf-logs-)
    assert sorted(groups) == ["ApiAccessLogGroup", "AuditLogGroup", "ProcessorLogGroup", "ReceiverLogGroup",
                              "SweeperLogGroup", "WafLogGroup"]
    for group in groups.values():
        arn = f"arn:aws:logs:eu-west-1:111122223333:log-group:{group['Properties']['LogGroupName']}"
        assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), arn


def test_every_alarm_may_both_publish_to_the_topic_and_encrypt_for_it(resources):
    kms_pattern = sub_text(key_statement(resources, "CloudWatchAlarmsPublishToEncryptedTopic")
                           ["Condition"]["ArnLike"]["aws:SourceArn"])
    (publish,) = [s for s in props(resources, "AlertTopicPolicy")["PolicyDocument"]["Statement"]
                  if s["Effect"] == "Allow"]
    topic_pattern = sub_text(publish["Condition"]["ArnLike"]["aws:SourceArn"])
    assert kms_pattern == topic_pattern
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        arn = f"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{alarm['Properties']['AlarmName']}"
        assert fnmatch.fnmatchcase(arn, kms_pattern), arn
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertTopic"}]


def test_everything_that_stores_data_uses_the_key(resources):
    key_ref, key_arn = {"Ref": "EncryptionKey"}, {"Fn::GetAtt": ["EncryptionKey", "Arn"]}
    expected = {"AWS::SQS::Queue": ("KmsMasterKeyId", key_ref), "AWS::SNS::Topic": ("KmsMasterKeyId", key_ref),
                "AWS::SecretsManager::Secret": ("KmsKeyId", key_ref), "AWS::Logs::LogGroup": ("KmsKeyId", key_arn),
                "AWS::Lambda::Function": ("KmsKeyArn", key_arn)}
    for type_name, (prop, value) in expected.items():
        found = of_type(resources, type_name)
        assert found and all(r["Properties"][prop] == value for r in found.values()), type_name
    assert props(resources, "WebhookTable")["SSESpecification"]["KMSMasterKeyId"] == key_ref
