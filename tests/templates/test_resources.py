"""The rendered stack, resource by resource: the seed's Testing Considerations and the fixes to its flaws."""

from __future__ import annotations

import re

from tests.templates.conftest import of_type, props

NAME_PROPERTIES = ("TableName", "QueueName", "TopicName", "FunctionName", "RoleName", "Name", "LogGroupName",
                   "AliasName", "AlarmName", "LayerName")


def test_every_physical_name_carries_the_suffix(resources):
    names = [(lid, p[key]) for lid, r in resources.items() for key in NAME_PROPERTIES
             if isinstance(p := r.get("Properties", {}), dict) and isinstance(p.get(key), str)]
    assert len(names) >= 25
    assert [n for n in names if "qa7" not in n[1]] == []


def test_seed_names(resources):
    assert props(resources, "WebhookTable")["TableName"] == "PaymentWebhooks-qa7"
    assert props(resources, "DeadLetterQueue")["QueueName"] == "webhook-dlq-qa7"
    assert props(resources, "ProcessingQueue")["QueueName"] == "webhook-processing-qa7"
    assert props(resources, "AlertTopic")["TopicName"] == "webhook-alerts-qa7"
    assert props(resources, "SigningSecrets")["Name"] == "webhook-signing-secrets-qa7"
    assert props(resources, "EncryptionKeyAlias")["AliasName"] == "alias/payment-webhooks-qa7"


def test_nothing_is_retained_and_nothing_is_protected(resources):
    policies = {(r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) for r in resources.values()}
    assert {p for pair in policies for p in pair} <= {None, "Delete"}
    assert props(resources, "WebhookTable")["DeletionProtectionEnabled"] is False


def test_functions_runtime_architecture_tracing_layer_and_concurrency(resources):
    functions = of_type(resources, "AWS::Lambda::Function")
    assert sorted(functions) == ["AuditFunction", "ProcessorFunction", "ReceiverFunction", "SweeperFunction"]
    for logical_id, function in functions.items():
        p = function["Properties"]
        assert p["Runtime"] == "python3.11"
        assert p["Architectures"] == ["arm64"]
        assert p["TracingConfig"] == {"Mode": "Active"}
        assert p["Layers"] == [{"Ref": "DependencyLayer"}]
        assert p["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "HandlersKey"}}
        assert p["KmsKeyArn"] == {"Fn::GetAtt": ["EncryptionKey", "Arn"]}
        assert p["LoggingConfig"] == {"LogGroup": {"Ref": logical_id.replace("Function", "LogGroup")}}
        assert "DeadLetterConfig" not in p  # meaningless for SQS- and stream-triggered functions
    assert props(resources, "ReceiverFunction")["ReservedConcurrentExecutions"] == 10
    assert props(resources, "ProcessorFunction")["ReservedConcurrentExecutions"] == 5
    assert props(resources, "SweeperFunction")["ReservedConcurrentExecutions"] == 1  # one sweep at a time
    assert props(resources, "ReceiverFunction")["Handler"] == "receiver.handler"


def test_receiver_environment_names_what_it_uses(resources):
    env = props(resources, "ReceiverFunction")["Environment"]["Variables"]
    assert env["TABLE_NAME"] == {"Ref": "WebhookTable"}
    assert env["QUEUE_URL"] == {"Ref": "ProcessingQueue"}
    assert env["SIGNING_SECRETS_ARN"] == {"Ref": "SigningSecrets"}
    assert props(resources, "ProcessorFunction")["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "WebhookTable"}


def test_layer_is_arm64_python311_from_the_artifact_bucket(resources):
    layer = props(resources, "DependencyLayer")
    assert layer["CompatibleRuntimes"] == ["python3.11"]
    assert layer["CompatibleArchitectures"] == ["arm64"]
    assert layer["Content"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "LayerKey"}}


def test_log_groups_have_retention_and_the_key(resources):
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) == 6
    for logical_id, group in groups.items():
        # the audit trail keeps a year (PCI DSS 10.5.1), the rest log_retention_days
        assert group["Properties"]["RetentionInDays"] == (365 if logical_id == "AuditLogGroup" else 30), logical_id
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["EncryptionKey", "Arn"]}


def test_log_retentions_follow_their_settings():
    from tests.templates.conftest import rendered
    from webhookctl.templates import Settings

    groups = of_type(rendered(Settings.from_overrides({"log_retention_days": "90", "audit_log_retention_days": "400"}))
                     ["Resources"], "AWS::Logs::LogGroup")
    assert {k: g["Properties"]["RetentionInDays"] for k, g in groups.items()} == {
        "ReceiverLogGroup": 90, "ProcessorLogGroup": 90, "AuditLogGroup": 400, "SweeperLogGroup": 90,
        "ApiAccessLogGroup": 90, "WafLogGroup": 90}


def test_retain_data_keeps_the_table_the_key_and_the_audit_logs_only(resources):
    from tests.templates.conftest import rendered
    from webhookctl.templates import Settings

    kept = rendered(Settings.from_overrides({"retain_data": "true"}, suffix="qa7"))["Resources"]
    retained = {k for k, r in kept.items()
                if (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) == ("Retain", "Retain")}
    assert retained == {"WebhookTable", "EncryptionKey", "AuditLogGroup"}
    for logical_id in set(kept) - retained:  # the rest exactly as without retain_data
        assert kept[logical_id] == resources[logical_id], logical_id


def test_table_billing_stream_encryption_keys_recovery_ttl(resources):
    table = props(resources, "WebhookTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "webhookId", "KeyType": "HASH"},
                                  {"AttributeName": "timestamp", "KeyType": "RANGE"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": name, "AttributeType": "S"} for name in (
        "webhookId", "timestamp", "listKey", "listSort", "pendingKey", "receivedAt")]
    indexes = {i["IndexName"]: ([k["AttributeName"] for k in i["KeySchema"]], i["Projection"])
               for i in table["GlobalSecondaryIndexes"]}
    assert indexes["ByProviderTime"][0] == ["listKey", "listSort"]
    assert "payload" not in indexes["ByProviderTime"][1]["NonKeyAttributes"]  # listing never reads the payload
    assert indexes["Pending"] == (["pendingKey", "receivedAt"],
                                  {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["provider", "eventType"]})
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS",
                                         "KMSMasterKeyId": {"Ref": "EncryptionKey"}}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_queues_retention_encryption_redrive_and_visibility(resources):
    dlq, queue = props(resources, "DeadLetterQueue"), props(resources, "ProcessingQueue")
    assert dlq["MessageRetentionPeriod"] == 14 * 86400
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": 3}
    for q in of_type(resources, "AWS::SQS::Queue").values():
        assert q["Properties"]["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}
    assert queue["VisibilityTimeout"] >= 6 * props(resources, "ProcessorFunction")["Timeout"]


def test_every_queue_and_the_topic_deny_plain_http(resources):
    documents = [props(resources, "AlertTopicPolicy")["PolicyDocument"]]
    for queue in of_type(resources, "AWS::SQS::Queue"):
        policy = props(resources, f"{queue}Policy")
        assert policy["Queues"] == [{"Ref": queue}]
        assert policy["PolicyDocument"]["Statement"][0]["Resource"] == [{"Fn::GetAtt": [queue, "Arn"]}]
        documents.append(policy["PolicyDocument"])
    assert len(documents) == 4
    for document in documents:
        deny = [s for s in document["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert "sqs:SendMessage" in deny[0]["Action"] or "sns:Publish" in deny[0]["Action"]


def test_processor_event_source_cannot_burn_receive_counts(resources):
    source = props(resources, "ProcessorQueueSource")
    assert source["EventSourceArn"] == {"Fn::GetAtt": ["ProcessingQueue", "Arn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["ScalingConfig"]["MaximumConcurrency"] <= props(
        resources, "ProcessorFunction")["ReservedConcurrentExecutions"]


def test_audit_stream_source_cannot_stall_its_shard(resources):
    source = props(resources, "AuditStreamSource")
    assert source["EventSourceArn"] == {"Fn::GetAtt": ["WebhookTable", "StreamArn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["BisectBatchOnFunctionError"] is True
    assert 0 <= source["MaximumRetryAttempts"] <= 10
    assert 60 <= source["MaximumRecordAgeInSeconds"] <= 86400
    assert source["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["AuditFailureQueue", "Arn"]}}}


def test_api_post_only_validated_throttled_traced_and_logged(resources):
    methods = of_type(resources, "AWS::ApiGateway::Method")
    assert [m["Properties"]["HttpMethod"] for m in methods.values()] == ["POST"]
    method = props(resources, "PostWebhookMethod")
    assert method["RequestParameters"] == {"method.request.path.provider": True}
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert props(resources, "PathValidator")["ValidateRequestParameters"] is True
    assert props(resources, "ProviderResource")["PathPart"] == "{provider}"
    stage = props(resources, "ApiStage")
    assert stage["TracingEnabled"] is True
    assert stage["MethodSettings"] == [{"HttpMethod": "*", "ResourcePath": "/*", "MetricsEnabled": True,
                                        "DataTraceEnabled": False,
                                        "ThrottlingRateLimit": 1000, "ThrottlingBurstLimit": 2000}]
    assert "ApiAccessLogGroup" in str(stage["AccessLogSetting"]["DestinationArn"])
    assert '"status": "$context.status"' in stage["AccessLogSetting"]["Format"]


def test_the_stage_serves_a_deployment_named_by_what_it_serves(resources):
    (deployment,) = of_type(resources, "AWS::ApiGateway::Deployment")
    assert re.fullmatch(r"ApiDeployment[0-9a-f]{10}", deployment)
    assert props(resources, "ApiStage")["DeploymentId"] == {"Ref": deployment}
    assert resources[deployment]["DependsOn"] == ["PostWebhookMethod"]


def test_lambda_permission_is_scoped_to_this_api(resources):
    permission = props(resources, "ApiInvokesReceiver")
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"][1] == {"Api": {"Ref": "WebhookApi"}}
    assert permission["SourceArn"]["Fn::Sub"][0].endswith(":${Api}/*/POST/webhook/*")


def test_waf_rate_rule_trusted_cidrs_and_stage_association(resources):
    acl = props(resources, "WebAcl")
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    (rule,) = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    rate = rule["Statement"]["RateBasedStatement"]
    assert (rate["Limit"], rate["EvaluationWindowSec"], rate["AggregateKeyType"]) == (600, 300, "IP")
    assert rule["Action"] == {"Block": {}}
    assert rate["ScopeDownStatement"]["NotStatement"]["Statement"]["IPSetReferenceStatement"] == {
        "Arn": {"Fn::GetAtt": ["TrustedProviderIps", "Arn"]}}
    for visibility in (acl["VisibilityConfig"], rule["VisibilityConfig"]):
        assert visibility["CloudWatchMetricsEnabled"] and visibility["SampledRequestsEnabled"]
    association = props(resources, "WebAclAssociation")
    assert association["WebACLArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    assert association["ResourceArn"]["Fn::Sub"][1] == {"Api": {"Ref": "WebhookApi"},
                                                        "Stage": {"Ref": "ApiStage"}}


def test_waf_managed_rule_groups_come_first_and_block_by_default(resources):
    rules = sorted(props(resources, "WebAcl")["Rules"], key=lambda r: r["Priority"])
    assert [(r["Priority"], r["Name"]) for r in rules] == [
        (1, "aws-ip-reputation"), (2, "aws-known-bad-inputs"), (3, "rate-limit-per-ip")]
    for rule, group in zip(rules, ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet"),
                           strict=False):
        assert rule["Statement"] == {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}}
        assert rule["OverrideAction"] == {"None": {}} and "Action" not in rule  # a group's rules keep their verdicts
        visibility = rule["VisibilityConfig"]
        assert visibility["CloudWatchMetricsEnabled"] and visibility["SampledRequestsEnabled"]


def test_waf_managed_rules_can_only_count():
    from tests.templates.conftest import rendered
    from webhookctl.templates import Settings

    acl = props(rendered(Settings.from_overrides({"waf_managed_rules_action": "count"}))["Resources"], "WebAcl")
    assert [r.get("OverrideAction") for r in sorted(acl["Rules"], key=lambda r: r["Priority"])] == [
        {"Count": {}}, {"Count": {}}, None]


def test_waf_logs_go_to_an_encrypted_group_with_every_signature_header_redacted(resources):
    from webhookctl.handlers.webhook_common.providers import PROVIDERS, sign_request

    group = props(resources, "WafLogGroup")
    assert group["LogGroupName"] == "aws-waf-logs-payment-webhooks-qa7"  # WAF requires the prefix
    logging = props(resources, "WafLogging")
    assert logging["ResourceArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    # the documented ARN form, without GetAtt Arn's ":*"
    assert logging["LogDestinationConfigs"] == [{"Fn::Sub": [
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Logs}",
        {"Logs": {"Ref": "WafLogGroup"}}]}]
    redacted = [field["SingleHeader"]["Name"] for field in logging["RedactedFields"]]
    assert sorted(redacted) == sorted({
        "stripe-signature", "x-square-hmacsha256-signature", "cko-signature", "authorization", "x-razorpay-signature",
        "paddle-signature", "x-hub-signature-256", "webhook-signature"})
    assert len(redacted) <= 100  # WAF's limit on RedactedFields
    # every header a provider signs with (or sends a shared secret in) is among them
    secrets = {"adyen": "00112233445566778899aabbccddeeff"}  # Adyen's keys are hex; Standard Webhooks' base64
    options = {"authorization": "shared", "notificationUrl": "https://example.com/"}
    sent = {name.lower() for provider in PROVIDERS for name in sign_request(
        provider, b"{\"notificationItems\": []}", secrets.get(provider, "whsec_c2VjcmV0c2VjcmV0"), 1_700_000_000,
        options)[1]}
    assert {h for h in sent if "signature" in h or h == "authorization"} == set(redacted)


def test_no_resource_policy_unless_provider_cidrs_is_set(resources):
    assert "Policy" not in props(resources, "WebhookApi")


def test_provider_cidrs_allow_only_those_sources():
    from tests.templates.conftest import rendered
    from webhookctl.templates import Settings
    from webhookctl.templates.provider_ranges import PUBLISHED

    api = props(rendered(Settings.from_overrides({"provider_cidrs": "square, 2001:db8::/32,192.0.2.7"}))["Resources"],
                "WebhookApi")
    anywhere = ["execute-api:/*"]
    assert api["Policy"] == {"Version": "2012-10-17", "Statement": [
        {"Sid": "Invoke", "Effect": "Allow", "Principal": "*", "Action": ["execute-api:Invoke"], "Resource": anywhere},
        {"Sid": "DenyOtherSources", "Effect": "Deny", "Principal": "*", "Action": ["execute-api:Invoke"],
         "Resource": anywhere, "Condition": {"NotIpAddress": {"aws:SourceIp": [
             "34.202.99.168/32", "54.245.1.154/32", "192.0.2.7/32", "2001:db8::/32"]}}}]}
    allowed = api["Policy"]["Statement"][1]["Condition"]["NotIpAddress"]["aws:SourceIp"]
    assert set(PUBLISHED["square"].cidrs) <= set(allowed)


def test_a_changed_source_list_reaches_the_stage_through_a_new_deployment(resources):
    from tests.templates.conftest import rendered
    from webhookctl.templates import Settings

    def deployment(overrides: dict) -> str:
        (name,) = of_type(rendered(Settings.from_overrides(overrides, suffix="qa7"))["Resources"],
                          "AWS::ApiGateway::Deployment")
        return name

    (unrestricted,) = of_type(resources, "AWS::ApiGateway::Deployment")
    stripe, github = deployment({"provider_cidrs": "stripe"}), deployment({"provider_cidrs": "github"})
    assert len({unrestricted, stripe, github}) == 3
    assert deployment({"provider_cidrs": "stripe"}) == stripe  # same list, same deployment: no needless redeploy


def test_alarms_notify_the_topic_on_alarm_and_ok(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 19  # 11 for the stack, and one signature-rejection rate per provider
    for alarm in alarms.values():
        p = alarm["Properties"]
        assert p["AlarmActions"] == p["OKActions"] == [{"Ref": "AlertTopic"}]
        assert p["TreatMissingData"] == "notBreaching"
        assert p["AlarmName"].startswith("payment-webhooks-qa7-")
    dlq = props(resources, "DlqDepthAlarm")
    assert (dlq["Namespace"], dlq["MetricName"], dlq["Threshold"]) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", 1)
    assert dlq["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    errors = {p["Properties"]["Dimensions"][0]["Value"]["Ref"] for p in alarms.values()
              if p["Properties"].get("MetricName") == "Errors"}
    assert errors == {"ReceiverFunction", "ProcessorFunction", "AuditFunction", "SweeperFunction"}


def test_topic_is_encrypted_and_only_this_accounts_alarms_publish(resources):
    assert props(resources, "AlertTopic")["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}
    allow = [s for s in props(resources, "AlertTopicPolicy")["PolicyDocument"]["Statement"]
             if s["Effect"] == "Allow"]
    assert allow == [{
        "Sid": "StackAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["sns:Publish"], "Resource": [{"Ref": "AlertTopic"}],
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}},
                      "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:"
                                                                "${AWS::AccountId}:alarm:payment-webhooks-qa7-*"}}},
    }]


def test_alert_emails_subscribe_to_the_topic():
    from tests.templates.conftest import rendered
    from webhookctl.templates import Settings

    template = rendered(Settings.from_overrides({"alert_emails": "oncall@example.com,pager@example.com"}))
    subscriptions = of_type(template["Resources"], "AWS::SNS::Subscription")
    assert sorted((s["Properties"]["Endpoint"], s["Properties"]["Protocol"], s["Properties"]["TopicArn"]["Ref"])
                  for s in subscriptions.values()) == [("oncall@example.com", "email", "AlertTopic"),
                                                       ("pager@example.com", "email", "AlertTopic")]


def test_secret_starts_empty_and_uses_the_key(resources):
    secret = props(resources, "SigningSecrets")
    assert secret["SecretString"] == "{}"
    assert secret["KmsKeyId"] == {"Ref": "EncryptionKey"}


def test_every_declared_output_is_published_and_exported_under_the_stack_name(template):
    from webhookctl.handlers.webhook_common.contract.stack import ALARM, OUTPUTS, with_role

    outputs = template["Outputs"]
    assert sorted(outputs) == sorted(o.key for o in OUTPUTS)
    for key, output in outputs.items():
        assert output["Export"] == {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{key}"}}
    alarms = {r["Properties"]["AlarmName"] for r in of_type(template["Resources"], "AWS::CloudWatch::Alarm").values()}
    assert {outputs[o.key]["Value"] for o in with_role(ALARM)} == alarms
    assert outputs["WebhookUrl"]["Value"]["Fn::Sub"][0].endswith("/live/webhook/")


def test_the_sweeper_runs_on_its_schedule_with_only_what_it_needs(resources):
    from tests.templates.test_policies import role_grants

    schedule = props(resources, "SweeperSchedule")
    assert (schedule["ScheduleExpression"], schedule["Targets"]) == (
        "rate(5 minutes)", [{"Id": "sweeper", "Arn": {"Fn::GetAtt": ["SweeperFunction", "Arn"]}}])
    permission = props(resources, "SweeperSchedulePermission")
    assert (permission["Principal"], permission["SourceArn"]) == (
        "events.amazonaws.com", {"Fn::GetAtt": ["SweeperSchedule", "Arn"]})
    grants = role_grants(resources, "SweeperRole")
    assert grants["dynamodb:Query"] == [{"Fn::Sub": ["${Table}/index/*",
                                                     {"Table": {"Fn::GetAtt": ["WebhookTable", "Arn"]}}]}]
    assert grants["sqs:SendMessage"] == [{"Fn::GetAtt": ["ProcessingQueue", "Arn"]}]
    assert not {"dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem", "events:PutEvents"} & set(grants)
    variables = props(resources, "SweeperFunction")["Environment"]["Variables"]
    assert variables["SWEEP_GRACE_SECONDS"] == "120"
    alarm = props(resources, "StuckEventsAlarm")
    assert (alarm["MetricName"], alarm["Period"]) == ("StuckEvents", 300)


def test_one_minute_sweeps_are_spelled_as_aws_requires():
    from tests.templates.conftest import rendered
    from webhookctl.templates import Settings

    resources = rendered(Settings(sweep_interval_minutes=1))["Resources"]
    assert props(resources, "SweeperSchedule")["ScheduleExpression"] == "rate(1 minute)"


def test_each_provider_alarms_on_its_share_of_signature_rejections(resources):
    alarm = props(resources, "GithubSignatureRejectedAlarm")
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert queries["rate"]["Expression"] == "IF(bad + good + dup >= 5, 100 * bad / (bad + good + dup), 0)"
    assert [queries[i]["MetricStat"]["Metric"]["MetricName"] for i in ("bad", "good", "dup")] == [
        "SignatureRejected", "Accepted", "Duplicates"]
    assert queries["bad"]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "Stack", "Value": "payment-webhooks-qa7"}, {"Name": "Provider", "Value": "github"}]
    assert (alarm["Threshold"], alarm["AlarmName"]) == (50, "payment-webhooks-qa7-signature-rejected-github")
    assert {k.removesuffix("SignatureRejectedAlarm").lower() for k in resources if k.endswith("SignatureRejectedAlarm")
            } == {"stripe", "adyen", "square", "checkout", "razorpay", "paddle", "standard", "github"}


def test_the_dashboard_shows_every_provider_and_every_alarm(resources):
    import json as jsonlib

    body = jsonlib.loads(props(resources, "Dashboard")["DashboardBody"]["Fn::Sub"])
    accepted = next(w for w in body["widgets"] if w["properties"].get("title") == "Webhooks accepted")
    assert [m[3] for m in accepted["properties"]["metrics"]] == [
        "stripe", "adyen", "square", "checkout", "razorpay", "paddle", "standard", "github"]
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = {arn.rsplit(":", 1)[1] for arn in alarm_widget["properties"]["alarms"]}
    assert shown == {a["Properties"]["AlarmName"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()}


def test_the_stack_wide_500s_alarm_reads_the_series_the_receiver_rolls_up_by_stack(resources):
    # the receiver emits its counts under {Provider, Stack} and, as a rollup, {Stack} alone (test_receiver.py)
    alarm = props(resources, "ReceiverServerErrorsAlarm")
    assert (alarm["MetricName"], [d["Name"] for d in alarm["Dimensions"]]) == ("ServerErrors", ["Stack"])
