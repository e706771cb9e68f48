"""API Gateway: the Deployment's Ref, the Stage and RequestValidator types moto's CloudFormation lacks, the AWS
managed policy its CloudWatch Logs role attaches (IAM), and the emulated account's CloudWatch Logs role (an account
preset, not a moto gap)."""

from __future__ import annotations

import functools
from typing import Any

from webhookctl.tryit.emulator.cloudformation import register_model
from webhookctl.tryit.emulator.patch import StandIn, import_beside, stand_in_package
from webhookctl.tryit.emulator.probe import ACCOUNT, Probe, rest_api

APIGATEWAY_LOGS_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def patch_deployment_ref() -> None:
    """Ref(AWS::ApiGateway::Deployment) must be the deployment id (moto gives a Python object's repr, which the
    Stage then stores, and GetStages fails)."""
    from moto.apigateway.models import Deployment

    Deployment.physical_resource_id = property(lambda self: self.id)


def deployment_ref_is_not_its_id(aws: Probe) -> bool:
    """Ref(Deployment) is not the id GetDeployments lists."""
    outputs = aws.create_stack(rest_api(), outputs=["Api", "ApiDeployment"])
    deployments = aws.client("apigateway").get_deployments(restApiId=outputs["Api"])["items"]
    return outputs.get("ApiDeployment") not in {d["id"] for d in deployments}


def patch_stage_model() -> None:
    """AWS::ApiGateway::Stage as a real stage with its tracing setting (moto skips the type, and only makes a
    bare stage from a Deployment's StageName)."""
    from moto.apigateway.models import apigateway_backends
    from moto.core.common_models import CloudFormationModel

    class StageModel(CloudFormationModel):
        def __init__(self, rest_api_id: str, name: str) -> None:
            self.rest_api_id, self.name = rest_api_id, name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGateway::Stage"

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str, **kwargs: Any) -> StageModel:
            props = cloudformation_json["Properties"]
            backend = apigateway_backends[account_id][region_name]
            backend.create_stage(props["RestApiId"], props["StageName"], props["DeploymentId"],
                                 variables=props.get("Variables"), description=props.get("Description", ""),
                                 tracing_enabled=props.get("TracingEnabled"))
            return cls(props["RestApiId"], props["StageName"])

        def delete(self, account_id: str, region_name: str) -> None:
            backend = apigateway_backends[account_id][region_name]
            if self.rest_api_id in backend.apis:
                backend.delete_stage(self.rest_api_id, self.name)

    register_model(StageModel)


def cloudformation_ignores_stages(aws: Probe) -> bool:
    """A Ref to an AWS::ApiGateway::Stage resolves to nothing."""
    return aws.ignores("AWS::ApiGateway::Stage", {"RestApiId": {"Ref": "Api"}, "StageName": "probe",
                                                  "DeploymentId": {"Ref": "ApiDeployment"}}, **rest_api())


def patch_request_validator_model() -> None:
    """AWS::ApiGateway::RequestValidator as a real validator; Ref = its id, as in AWS."""
    from moto.apigateway.models import apigateway_backends
    from moto.core.common_models import CloudFormationModel

    class RequestValidatorModel(CloudFormationModel):
        def __init__(self, validator_id: str) -> None:
            self.validator_id = validator_id

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGateway::RequestValidator"

        @property
        def physical_resource_id(self) -> str:
            return self.validator_id

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str, **kwargs: Any) -> RequestValidatorModel:
            props = cloudformation_json["Properties"]
            validator = apigateway_backends[account_id][region_name].create_request_validator(
                props["RestApiId"], props.get("Name", resource_name), props.get("ValidateRequestBody"),
                props.get("ValidateRequestParameters"))
            return cls(validator.id)

    register_model(RequestValidatorModel)


def cloudformation_ignores_request_validators(aws: Probe) -> bool:
    """A Ref to an AWS::ApiGateway::RequestValidator resolves to nothing."""
    return aws.ignores("AWS::ApiGateway::RequestValidator", {"RestApiId": {"Ref": "Api"}, "Name": "probe",
                                                             "ValidateRequestBody": True},
                       Api={"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "probe"}})


def preset_cloudwatch_logs_role() -> None:
    """The emulated account is one where API Gateway already has its CloudWatch Logs role.

    On AWS that is a once-per-account-and-region setting (deploy's preflight asks for it) that a fresh account
    lacks too, so this is a property of the account the emulator plays, not a moto gap.
    """
    from moto.apigateway import models

    original = models.Account.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.cloudwatch_role_arn = f"arn:aws:iam::{ACCOUNT}:role/apigateway-cloudwatch-logs"

    models.Account.__init__ = init


def patch_aws_managed_policies() -> None:
    """Every AWS account has AWS's managed policies (API Gateway's logging role attaches one); moto has them only
    under MOTO_IAM_LOAD_MANAGED_POLICIES, which parses all of them on every reset. Load the one named instead."""
    from moto.iam.models import IAMBackend

    attach = IAMBackend.attach_role_policy

    def attach_role_policy(self: Any, policy_arn: str, role_name: str) -> None:
        if policy_arn not in self.managed_policies and (policy := _aws_managed_policy(self, policy_arn)):
            self.managed_policies[policy.arn] = policy
        attach(self, policy_arn, role_name)

    IAMBackend.attach_role_policy = attach_role_policy


def _aws_managed_policy(backend: Any, arn: str) -> Any:
    """moto's copy of the AWS-managed policy `arn` names, or None (not one of AWS's, or unknown to moto)."""
    from moto.iam.models import AWSManagedPolicy

    data = _aws_managed_policies_data().get(arn.rpartition("/")[2]) if ":iam::aws:policy/" in arn else None
    if data is None:
        return None
    policy = AWSManagedPolicy.from_data(arn.rpartition("/")[2], backend.account_id, backend.region_name, data)
    return policy if policy.arn == arn else None


@functools.cache
def _aws_managed_policies_data() -> dict[str, Any]:
    import json

    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def aws_managed_policies_are_missing(aws: Probe) -> bool:
    """Attaching AWS's AmazonAPIGatewayPushToCloudWatchLogs to a role fails: moto's account has no such policy."""
    import json

    from botocore.exceptions import ClientError

    iam = aws.client("iam")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(trust))
    try:
        iam.attach_role_policy(RoleName="probe", PolicyArn=APIGATEWAY_LOGS_POLICY)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "NoSuchEntity"
    return False


# --- cost ----------------------------------------------------------------------------------------------

def patch_deferred_openapi_validator() -> None:
    """moto's API Gateway imports openapi-spec-validator (0.1 s, with jsonschema and pydantic) for the OpenAPI
    documents ImportRestApi and PutRestApi validate, which the stack never sends; it now loads on the first
    validation, whose errors reach moto as the same message. A no-op once moto's API Gateway is imported."""
    import sys

    if "moto.apigateway.models" in sys.modules:
        return

    class OpenAPIValidationError(Exception):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.message = message

    def validate(spec: Any, *args: Any, **kwargs: Any) -> Any:
        from openapi_spec_validator import validate as validate_spec
        from openapi_spec_validator.validation.exceptions import OpenAPIValidationError as InvalidSpec

        try:
            return validate_spec(spec, *args, **kwargs)
        except InvalidSpec as invalid:
            raise OpenAPIValidationError(invalid.message) from invalid

    exceptions = StandIn("openapi_spec_validator.validation.exceptions")
    exceptions.OpenAPIValidationError = OpenAPIValidationError
    import_beside("moto.apigateway.models", [stand_in_package("openapi_spec_validator", validate=validate),
                                             stand_in_package("openapi_spec_validator.validation"), exceptions])


def apigateway_imports_the_openapi_validator(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): importing moto's API Gateway imports openapi-spec-validator, whose
    error class its models hold from then on."""
    from moto.apigateway import models

    return models.OpenAPIValidationError.__module__.startswith("openapi_spec_validator")
