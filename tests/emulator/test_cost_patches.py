"""What the emulator's patches do beyond their canaries: the cost patches change how fast the sandbox gets its
answers, never the answers, and a table read from a stack waits for the DynamoDB request in flight."""

from __future__ import annotations

import json

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


def test_a_symmetric_key_still_encrypts_and_an_asymmetric_one_still_signs() -> None:
    from moto import mock_aws

    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=symmetric, Plaintext=b"card-free")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"card-free"
        signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        signature = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
        assert kms.verify(KeyId=signing, Message=b"m", Signature=signature,
                          SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
        assert kms.get_public_key(KeyId=symmetric)["PublicKey"]  # moto still answers; the key is made on demand
