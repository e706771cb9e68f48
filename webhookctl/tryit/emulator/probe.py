"""What the canaries (canaries.py) use to probe unpatched in-process moto: clients, small stacks and templates.

Nothing here imports moto or boto3 until a probe runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PYTHON_ZIP_HANDLER = "def handler(event, context):\n    return event\n"


def holds_a_lock(*holders: Any) -> bool:
    """Whether any of the objects' own attributes is a lock (how the atomicity canaries look for one)."""
    import threading

    locks = (type(threading.Lock()), type(threading.RLock()), threading.Condition, threading.Semaphore)
    return any(isinstance(value, locks) for holder in holders for value in vars(holder).values())


class Probe:
    """What a canary needs: clients on the probe's own in-process moto, and small stacks."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        if service not in self._clients:
            # In-process moto does not recognise the account-based host botocore derives for DynamoDB
            # Streams calls (moto-notes, Harness), so every client addresses the regional endpoint.
            config = Config(account_id_endpoint_mode="disabled", retries={"max_attempts": 1})
            self._clients[service] = boto3.client(service, region_name=REGION, config=config)
        return self._clients[service]

    def create_stack(self, resources: dict[str, Any], outputs: Iterable[str] = (), name: str = "probe",
                     parameters: dict[str, str] | None = None) -> dict[str, str]:
        """Create a stack whose Outputs are `Ref`s to the named resources; return the outputs moto kept."""
        self.client("cloudformation").create_stack(
            StackName=name, TemplateBody=template(resources, outputs, parameters),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()])
        return self.outputs(name)

    def outputs(self, name: str = "probe") -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}

    def ignores(self, resource_type: str, properties: dict[str, Any], **others: Any) -> bool:
        """moto's CloudFormation skips a type it has no model for, and an Output `Ref` to it vanishes."""
        resources = {**others, "Probed": {"Type": resource_type, "Properties": properties}}
        return "Probed" not in self.create_stack(resources, outputs=["Probed"])

    def code_object(self, key: str) -> dict[str, str]:
        """A zip in S3 (the Content or Code of a Lambda layer or function)."""
        import io
        import zipfile

        s3 = self.client("s3")
        if not s3.list_buckets()["Buckets"]:
            s3.create_bucket(Bucket="probe-code")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("probe.py", PYTHON_ZIP_HANDLER)
        s3.put_object(Bucket="probe-code", Key=key, Body=buffer.getvalue())
        return {"S3Bucket": "probe-code", "S3Key": key}

    def role_arn(self) -> str:
        """A role Lambda may assume (moto checks the function's role exists)."""
        iam = self.client("iam")
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole"}]}
        return iam.create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def template(resources: dict[str, Any], outputs: Iterable[str] = (), parameters: dict[str, str] | None = None) -> str:
    body: dict[str, Any] = {"Resources": resources}
    if parameters:
        body["Parameters"] = {name: {"Type": "String"} for name in parameters}
    if outputs:
        body["Outputs"] = {name: {"Value": {"Ref": name}} for name in outputs}
    return json.dumps(body)


def rest_api() -> dict[str, Any]:
    """A REST API with one MOCK method and a deployment of it, keys in an order DependsOn must override."""
    api = {"Ref": "Api"}
    return {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "probe"}},
        "ApiDeployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": "ApiMethod",
                          "Properties": {"RestApiId": api}},
        "ApiMethod": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": api, "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "HttpMethod": "GET",
            "AuthorizationType": "NONE", "Integration": {
                "Type": "MOCK", "IntegrationHttpMethod": "GET", "Uri": "http://probe.invalid"}}},
    }
