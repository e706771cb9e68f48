"""Reaching the emulator from its own process without HTTP (the sandbox's handlers, pollers and deploy)."""

from __future__ import annotations

from typing import Any


class InProcessAws:
    """moto's in-process interception, over the same state the emulator's HTTP server serves.

    The handlers, pollers and deploy in this process reach the emulator without HTTP (about 3x less CPU
    per call: the pipeline shares one interpreter), while other commands use the server's URL.
    """

    def __init__(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()

    def start(self) -> InProcessAws:
        self._mock.start(reset=False)  # keep what the server holds: it is the same account
        return self

    def stop(self) -> None:
        self._mock.stop(remove_data=False)


def streams_client(region: str) -> Any:
    """DynamoDB Streams addressed by its regional endpoint: botocore otherwise derives an account-based host
    from the StreamArn, which the in-process emulator does not recognise (moto-notes, Harness). GetRecords'
    records stay the JSON the service sends, as Lambda hands them on (epoch seconds, base64 binaries):
    botocore's shape-driven parse of every image, for the poller to turn back, was a thirtieth of the
    sandbox's CPU."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("response_parser_factory", _records_as_sent())
    return boto3.Session(botocore_session=core, region_name=region).client(
        "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com")


def _records_as_sent() -> Any:
    """A parser factory whose JSON parser returns GetRecords' body as sent, and parses the rest as botocore does."""
    import json

    from botocore.parsers import JSONParser, ResponseParserFactory

    class RecordsAsSent(JSONParser):
        def _do_parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
            if shape is not None and shape.name == "GetRecordsOutput":
                return json.loads(response["body"])
            return super()._do_parse(response, shape)

    class Factory(ResponseParserFactory):
        def create_parser(self, protocol_name: str) -> Any:
            return RecordsAsSent(**self._defaults) if protocol_name == "json" else super().create_parser(protocol_name)

    return Factory()
