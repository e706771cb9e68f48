"""What the emulator's patches do beyond their canaries: the cost patches change how fast the sandbox gets its
answers, never the answers, and a table read from a stack waits for the DynamoDB request in flight."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
import yaml

from webhookctl.building.render import render_template
from webhookctl.templates import Settings
from webhookctl.tryit.emulator import install_patches


@pytest.fixture(scope="module", autouse=True)
def patched() -> None:
    install_patches()


@pytest.fixture
def mocked() -> Iterator[None]:
    """moto in-process, as patched: the clients a test makes reach it."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def dynamodb(mocked: None) -> Any:
    """A DynamoDB client, with table "t" keyed by the string "k"."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    return dynamodb


def test_the_stack_template_reads_the_same_as_json_as_through_motos_yaml_loader() -> None:
    from moto.cloudformation import models

    body = render_template(Settings(), "json")
    assert models.yaml.load(body, Loader=yaml.Loader) == yaml.load(body, Loader=yaml.Loader) == json.loads(body)


@pytest.mark.parametrize("body, parsed", [
    ("{a: 1, b: [x]}", {"a": 1, "b": ["x"]}),  # a YAML flow mapping: starts with a brace, is not JSON
    ("Resources:\n  Queue: !Ref Other\n", {"Resources": {"Queue": {"Ref": "Other"}}}),  # moto's tags still read
])
def test_a_body_that_is_not_json_still_goes_to_motos_yaml_loader(body: str, parsed: dict) -> None:
    from moto.cloudformation import models
    from moto.cloudformation.utils import yaml_tag_constructor

    models.yaml.add_multi_constructor("", yaml_tag_constructor)
    assert models.yaml.load(body, Loader=yaml.Loader) == parsed


def test_sessions_share_the_sdk_data_and_their_clients_answer_alike() -> None:
    make = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    first, second = (boto3.Session(**make).client("sqs") for _ in range(2))
    assert first.meta.service_model.operation_names == second.meta.service_model.operation_names
    loaders = [botocore.session.Session().get_component("data_loader") for _ in range(2)]
    assert loaders[0].load_data("endpoints") is loaders[1].load_data("endpoints")
    assert loaders[0].list_available_services("service-2") == loaders[1].list_available_services("service-2")
    assert "dynamodb" in loaders[0].list_available_services(type_name="service-2")


def test_an_s3_clients_edit_of_its_request_uris_stays_its_own(mocked: None) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="probe")  # botocore strips "/{Bucket}"
    model = botocore.session.Session().get_component("data_loader").load_service_model("s3", "service-2")
    assert model["operations"]["CreateBucket"]["http"]["requestUri"] == "/{Bucket}"
    assert boto3.Session().client("s3", region_name="us-east-1").list_objects_v2(Bucket="probe")["KeyCount"] == 0


def test_a_handler_without_kwargs_is_still_refused_every_time() -> None:
    events = botocore.session.Session().get_component("event_emitter")

    def takes_no_kwargs(params):
        return None

    for _ in range(2):  # the second answer comes from the remembered check
        with pytest.raises(ValueError, match="must accept keyword arguments"):
            events.register("before-call.sqs", takes_no_kwargs)
    events.register("before-call.sqs", lambda **kwargs: None)


def test_an_action_added_to_a_response_class_after_its_names_were_listed_is_found() -> None:
    from moto.core import responses

    class Handler(responses.BaseResponse):
        def first(self) -> None:
            return None

    assert "first" in responses.method_names_from_class(Handler)
    Handler.second = lambda self: None
    assert {"first", "second"} <= set(responses.method_names_from_class(Handler))
    assert responses.method_names_from_class(Handler) is responses.method_names_from_class(Handler)


def test_a_stack_reading_a_table_waits_for_the_dynamodb_request_in_flight() -> None:
    """DescribeStacks resolves the table's GetAtt through Table.describe(), which iterates its items: under
    the lock DynamoDB requests hold, it never sees a write half done (a 500 under load, before)."""
    import threading

    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    table = Table("probe", account_id="123456789012", region="us-east-1",
                  schema=[{"AttributeName": "k", "KeyType": "HASH"}],
                  attr=[{"AttributeName": "k", "AttributeType": "S"}], streams={"StreamEnabled": False})
    answers: list[str] = []
    reader = threading.Thread(target=lambda: answers.append(table.get_cfn_attribute("Arn")))
    with DynamoHandler.request_lock:  # a request in flight
        reader.start()
        reader.join(timeout=0.3)
        assert reader.is_alive() and answers == []
    reader.join(timeout=5)
    assert answers == [table.table_arn]


def test_a_symmetric_key_still_encrypts_and_an_asymmetric_one_still_signs(mocked: None) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=symmetric, Plaintext=b"card-free")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"card-free"
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signature = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    assert kms.verify(KeyId=signing, Message=b"m", Signature=signature,
                      SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
    assert kms.get_public_key(KeyId=symmetric)["PublicKey"]  # moto still answers; the key is made on demand


def test_an_update_expression_copied_for_validation_is_the_same_tree() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    tree = UpdateExpressionParser.make("SET #s = :s, #n = if_not_exists(#n, :zero) + :one REMOVE #p ADD #ids :ids")
    copied = validators.deepcopy(tree)
    assert copied is not tree and _shape(copied) == _shape(copy.deepcopy(tree)) == _shape(tree)
    assert copied.children[0].parent is copied  # the parent links point into the copy
    copied.children.clear()
    assert tree.children  # a copy, not a view
    assert validators.deepcopy([1, {"a": 2}]) == [1, {"a": 2}]  # not a tree: copied as before


def _shape(value: object) -> object:
    """A tree's structure and values, for comparing objects that define no equality."""
    if isinstance(value, list | tuple):
        return [_shape(v) for v in value]
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if hasattr(value, "__dict__"):  # parent links point back up: compared by the test itself
        return (type(value).__name__, _shape({k: v for k, v in vars(value).items() if k != "parent"}))
    return value


def test_a_remembered_condition_still_decides_each_request_on_its_own_item(dynamodb: Any) -> None:
    once = {"TableName": "t", "ConditionExpression": "attribute_not_exists(k)"}
    for key in ("a", "b"):
        dynamodb.put_item(Item={"k": {"S": key}}, **once)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(Item={"k": {"S": "a"}}, **once)
    marked = {"TableName": "t", "UpdateExpression": "SET s = :new", "ConditionExpression": "s = :old OR "
              "attribute_not_exists(s)", "ExpressionAttributeValues": {":new": {"S": "x"}, ":old": {"S": "y"}}}
    dynamodb.update_item(Key={"k": {"S": "a"}}, **marked)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(Key={"k": {"S": "a"}}, **marked)  # s is x now: the same condition fails
    with pytest.raises(dynamodb.exceptions.ClientError, match="unused"):
        dynamodb.put_item(Item={"k": {"S": "c"}}, ExpressionAttributeNames={"#u": "u"}, **once)


def test_a_remembered_condition_decides_with_each_requests_own_values(dynamodb: Any) -> None:
    def bump(limit: str, note: str) -> None:  # the condition names :limit; :note is only the SET's
        dynamodb.update_item(TableName="t", Key={"k": {"S": "a"}}, UpdateExpression="SET n = :limit, note = :note",
                             ConditionExpression="attribute_not_exists(n) OR n < :limit",
                             ExpressionAttributeValues={":limit": {"N": limit}, ":note": {"S": note}})

    bump("5", "first")
    bump("6", "second")  # 5 < 6: passes, with its own SET values
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        bump("2", "third")  # 6 < 2 fails: the condition read this request's :limit, not a remembered one
    item = dynamodb.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]
    assert (item["n"], item["note"]) == ({"N": "6"}, {"S": "second"})


def test_updates_through_remembered_traversals_give_the_items_moto_gave(dynamodb: Any) -> None:
    key = {"k": {"S": "a"}}
    dynamodb.put_item(TableName="t", Item={**key, "n": {"N": "1"}, "gone": {"S": "x"}, "ids": {"SS": ["a"]}})
    dynamodb.update_item(TableName="t", Key=key, UpdateExpression="SET n = n + :one, m = if_not_exists(m, :z), "
                         "l = list_append(if_not_exists(l, :empty), :l) REMOVE gone ADD ids :ids",
                         ExpressionAttributeValues={":one": {"N": "1"}, ":z": {"N": "0"}, ":empty": {"L": []},
                                                    ":l": {"L": [{"S": "x"}]}, ":ids": {"SS": ["b"]}})
    item = dynamodb.get_item(TableName="t", Key=key)["Item"]
    assert item == {**key, "n": {"N": "2"}, "m": {"N": "0"}, "l": {"L": [{"S": "x"}]}, "ids": {"SS": ["a", "b"]}}


def test_a_remembered_update_expression_applies_each_requests_own_values(dynamodb: Any) -> None:
    update = {"TableName": "t", "UpdateExpression": "SET #s = :s, #n = if_not_exists(#n, :zero) + :one",
              "ExpressionAttributeNames": {"#s": "status", "#n": "n"}}
    for key, status, times in (("a", "x", 2), ("b", "y", 1)):
        for _ in range(times):
            dynamodb.update_item(Key={"k": {"S": key}}, ExpressionAttributeValues={
                ":s": {"S": status}, ":zero": {"N": "0"}, ":one": {"N": "1"}}, **update)
    items = {i["k"]["S"]: i for i in dynamodb.scan(TableName="t")["Items"]}
    assert items == {"a": {"k": {"S": "a"}, "status": {"S": "x"}, "n": {"N": "2"}},
                     "b": {"k": {"S": "b"}, "status": {"S": "y"}, "n": {"N": "1"}}}


def test_checks_skipped_for_a_validated_expression_still_refuse_it_with_other_names_or_keys(dynamodb: Any) -> None:
    def update(table: str, expression: str, **names: str) -> None:
        dynamodb.update_item(TableName=table, Key={"k": {"S": "a"}}, UpdateExpression=expression,
                             ExpressionAttributeNames={f"#{p}": name for p, name in names.items()},
                             ExpressionAttributeValues={":x": {"S": "1"}, ":y": {"S": "2"}})

    update("t", "SET #a = :x, #b = :y", a="a", b="b")  # validated: every pass ran, and passed
    with pytest.raises(dynamodb.exceptions.ClientError, match="overlap|duplicate|Two document paths"):
        update("t", "SET #a = :x, #b = :y", a="a", b="a")  # the same tree, now setting one path twice
    with pytest.raises(dynamodb.exceptions.ClientError, match="part of the key"):
        update("t", "SET #a = :x, #b = :y", a="a", b="k")  # now setting the table's key
    dynamodb.create_table(TableName="keyed-by-b", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"},
                                     {"AttributeName": "b", "KeyType": "RANGE"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"},
                                                {"AttributeName": "b", "AttributeType": "S"}])
    with pytest.raises(dynamodb.exceptions.ClientError, match="part of the key"):
        dynamodb.update_item(TableName="keyed-by-b", Key={"k": {"S": "a"}, "b": {"S": "z"}},
                             UpdateExpression="SET #a = :x, #b = :y", ExpressionAttributeNames={"#a": "a", "#b": "b"},
                             ExpressionAttributeValues={":x": {"S": "1"}, ":y": {"S": "2"}})
    for _ in range(2):  # refused, so never remembered as validated
        with pytest.raises(dynamodb.exceptions.ClientError, match="SET"):
            update("t", "SET #a = :x SET #b = :y", a="a", b="b")


def test_events_filled_through_remembered_jsonpaths_each_carry_their_own_values(mocked: None) -> None:
    events, sqs = (boto3.client(name, region_name="us-east-1") for name in ("events", "sqs"))
    queue = sqs.create_queue(QueueName="target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="r", EventPattern='{"source": ["test"]}')
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    for n in (1, 2):
        events.put_events(Entries=[{"Source": "test", "DetailType": f"kind {n}", "Detail": json.dumps({"n": n})}])
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert sorted((b["detail-type"], b["detail"]["n"], b["source"]) for b in bodies) == [
        ("kind 1", 1, "test"), ("kind 2", 2, "test")]


# A fresh interpreter: this one may have imported moto's CloudFormation, and every service, before the patches.
DEFERRED_SERVICES_SCRIPT = """
import json, sys
import boto3
from webhookctl.tryit.emulator import install_patches

install_patches()
from moto import mock_aws

def outputs(name, resources, parameters={}):
    outputs = {key: {"Value": {"Ref": key}} for key in [*resources, *parameters]}
    template = {"Parameters": parameters, "Resources": resources, "Outputs": outputs}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}

with mock_aws():
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    outputs("queue", {"Queue": {"Type": "AWS::SQS::Queue"}})
    ec2_before, openapi_before = "moto.ec2" in sys.modules, "openapi_spec_validator" in sys.modules
    network = outputs("network", {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Template": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {}}}})
    ec2 = boto3.client("ec2", region_name="us-east-1")
    tags = ec2.describe_vpcs(VpcIds=[network["Vpc"]])["Vpcs"][0]["Tags"]
    template = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [network["Template"]]}])["Tags"]
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/colour", Value="blue", Type="String")
    colour = outputs("parameter", {"Queue": {"Type": "AWS::SQS::Queue"}},
                     {"Colour": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/colour"}})["Colour"]
    try:
        apigateway = boto3.client("apigateway", region_name="us-east-1")
        apigateway.import_rest_api(body=json.dumps(INVALID), failOnWarnings=True)
    except Exception as refused:
        invalid = refused.response["Error"]["Message"]
    print(json.dumps({"ec2_before": ec2_before, "tags": {t["Key"]: t["Value"] for t in tags}, "colour": colour,
                      "template_tags": template, "openapi_before": openapi_before, "invalid": invalid}))
"""
INVALID_OPENAPI = {"openapi": "3.0.0", "info": {"title": "t", "description": "d"},
                   "paths": {"/x": {"get": {"responses": "none"}}}}


def test_services_a_template_does_not_name_load_only_when_one_does() -> None:
    script = f"INVALID = {INVALID_OPENAPI!r}\n{DEFERRED_SERVICES_SCRIPT}"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["ec2_before"] is False  # an SQS-only stack left EC2 unloaded
    # moto's tagging of EC2 resources (an isinstance check on a class parsing imported) still happens,
    assert seen["tags"]["aws:cloudformation:logical-id"] == "Vpc"
    assert seen["tags"]["aws:cloudformation:stack-name"] == "network"
    assert seen["template_tags"] == []  # and its exception (moto 5.2.6) for a LaunchTemplate, another such check
    assert seen["colour"] == "blue"  # and an SSM parameter type still resolves through SSM's backends
    # API Gateway was loaded without its OpenAPI validator, which still refuses a document as it did.
    from openapi_spec_validator import validate

    assert seen["openapi_before"] is False
    with pytest.raises(Exception) as invalid:
        validate(INVALID_OPENAPI)
    assert seen["invalid"] == f"Failed to parse the uploaded OpenAPI document due to: {invalid.value.message}"


def test_url_builders_compiled_on_first_use_build_what_werkzeugs_own_build() -> None:
    from werkzeug.routing import Map, Rule

    from webhookctl.tryit.emulator.routing import compiled

    invoke = Rule("/2015-03-31/functions/<name>/invocations", endpoint="invoke")
    urls = Map([invoke, Rule("/restapis/<int:api>/stages", endpoint="stages", defaults={"api": 7}),
                Rule("/restapis/<int:api>/stages/<stage>", endpoint="stage"),
                Rule("/rules/<rule>", endpoint="rule")]).bind("localhost")
    assert not compiled(invoke._build) and not compiled(invoke._build_unknown)  # bound, nothing compiled yet
    for _ in range(2):  # the first build compiles each builder in place, the second uses it
        assert urls.build("invoke", {"name": "my fn", "Qualifier": "1"}) == \
            "/2015-03-31/functions/my%20fn/invocations?Qualifier=1"
        assert urls.build("invoke", {"name": "f", "Qualifier": "1"}, append_unknown=False) == \
            "/2015-03-31/functions/f/invocations"
        assert urls.build("stages", {}) == "/restapis/7/stages"
        assert urls.build("stage", {"api": 3, "stage": "v1"}, force_external=True) == \
            "http://localhost/restapis/3/stages/v1"
        assert urls.build("rule", {"rule": "r1", "self": "s"}) == "/rules/r1?self=s"
        assert compiled(invoke._build) and compiled(invoke._build_unknown)


def test_stream_records_answered_as_json_carry_every_attribute_type_as_the_json_protocol_sends_it(mocked: None) -> None:
    item = {"k": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01", b"\x02"]},
            "ss": {"SS": ["x"]}, "ns": {"NS": ["2"]}, "m": {"M": {"inner": {"B": b"\x03"}}},
            "l": {"L": [{"BOOL": True}, {"NULL": True}]}}
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",  # the endpoint in-process moto knows
                           endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    arn = dynamodb.create_table(
        TableName="s", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"][
        "LatestStreamArn"]
    dynamodb.put_item(TableName="s", Item=item)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    (record,) = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]  # parsed by botocore
    assert record["dynamodb"]["NewImage"] == item
    assert record["dynamodb"]["ApproximateCreationDateTime"].year >= 2024
