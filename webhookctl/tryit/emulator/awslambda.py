"""Lambda: layers and functions created from templates as AWS creates them, and GetAccountSettings."""

from __future__ import annotations

import json
import os
from typing import Any

from webhookctl.tryit.emulator.probe import Probe


def patch_layer_version() -> None:
    """Ref(LayerVersion) must be the version ARN (moto gives a Python object's repr, which breaks every later
    Function update); LayerName and CompatibleArchitectures are honoured; a changed layer publishes a new
    version, as CloudFormation replaces a LayerVersion."""
    from moto.awslambda.models import LayerVersion
    from moto.awslambda.utils import get_backend  # the Docker or the Docker-free backend, as configured

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        spec = {"Content": props["Content"], "LayerName": props.get("LayerName", resource_name)}
        for optional in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if optional in props:
                spec[optional] = props[optional]
        return get_backend(account_id, region_name).publish_layer_version(spec)

    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
               account_id: str, region_name: str) -> Any:
        return create(cls, new_resource_name, cloudformation_json, account_id, region_name)

    LayerVersion.physical_resource_id = property(lambda self: self.arn)
    LayerVersion.cloudformation_name_type = staticmethod(lambda: "LayerName")
    LayerVersion.has_cfn_attr = classmethod(lambda cls, attr: attr == "LayerVersionArn")
    LayerVersion.get_cfn_attribute = lambda self, attribute_name: self.arn
    LayerVersion.create_from_cloudformation_json = classmethod(create)
    LayerVersion.update_from_cloudformation_json = classmethod(update)


def layer_ref_is_not_its_arn(aws: Probe) -> bool:
    """Ref(LayerVersion) is not an ARN with the template's LayerName."""
    layer = {"Type": "AWS::Lambda::LayerVersion",
             "Properties": {"LayerName": "probe-layer", "Content": aws.code_object("layer.zip")}}
    ref = aws.create_stack({"Layer": layer}, outputs=["Layer"]).get("Layer", "")
    return not (ref.startswith("arn:aws:lambda:") and ":layer:probe-layer:" in ref)


def patch_function_create() -> None:
    """moto's CloudFormation drops Architectures, Layers and TracingConfig when it creates a function (its Lambda
    API keeps them, and updates apply Layers): set them as AWS would."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.create_from_cloudformation_json.__func__

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        function = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        props = cloudformation_json["Properties"]
        function.architectures = props.get("Architectures", function.architectures)
        function.tracing_config = props.get("TracingConfig", function.tracing_config)
        if props.get("Layers"):
            function.update_configuration({"Layers": props["Layers"]})  # moto's own UpdateFunctionConfiguration
        return function

    LambdaFunction.create_from_cloudformation_json = classmethod(create)


def function_create_drops_settings(aws: Probe) -> bool:
    """A function created from a template lacks its Architectures, TracingConfig or Layers."""
    layer = aws.client("lambda").publish_layer_version(LayerName="probe", Content=aws.code_object("layer.zip"))
    properties = {"Role": aws.role_arn(), "Runtime": "python3.11", "Handler": "probe.handler",
                  "Code": aws.code_object("function.zip"), "Architectures": ["arm64"],
                  "TracingConfig": {"Mode": "Active"}, "Layers": [layer["LayerVersionArn"]]}
    name = aws.create_stack({"Function": {"Type": "AWS::Lambda::Function", "Properties": properties}},
                            outputs=["Function"])["Function"]
    configuration = aws.client("lambda").get_function_configuration(FunctionName=name)
    return ((configuration["Architectures"], configuration["TracingConfig"]["Mode"]) != (["arm64"], "Active")
            or [attached["Arn"] for attached in configuration.get("Layers", [])] != [layer["LayerVersionArn"]])


def patch_account_settings() -> None:
    """GetAccountSettings (deploy's concurrency preflight): the quota moto itself models for
    PutFunctionConcurrency (MOTO_LAMBDA_CONCURRENCY_QUOTA, AWS's default 1000), minus what functions reserve."""
    from moto.awslambda import responses, urls

    def get_account_settings(self: Any) -> Any:
        limit = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000"))
        functions = list(self.backend.list_functions())
        reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
        return 200, {}, json.dumps({
            "AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit - reserved,
                             "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                             "CodeSizeZipped": 52428800},
            "AccountUsage": {"FunctionCount": len(functions), "TotalCodeSize": 0}})

    responses.LambdaResponse.get_account_settings = get_account_settings
    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = responses.LambdaResponse.dispatch


def account_settings_are_missing(aws: Probe) -> bool:
    """GetAccountSettings has no route (404 "Not yet implemented" in-process, an HTML 404 from a server)."""
    from botocore.exceptions import ClientError

    try:
        return "AccountLimit" not in aws.client("lambda").get_account_settings()
    except (ClientError, NotImplementedError):
        return True
