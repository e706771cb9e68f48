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
    from the StreamArn, which the in-process emulator does not recognise (moto-notes, Harness). Its timestamps
    stay the epoch seconds the service sends, as Lambda hands them on (the AWS CLI's own trick: botocore would
    parse each into a datetime, a hundredth of the sandbox's CPU, for the poller to turn back)."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=lambda value: value)
    return boto3.Session(botocore_session=core, region_name=region).client(
        "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com")
