"""A local AWS emulator (moto's server on 127.0.0.1) that deploys the real, unmodified stack template.

    with start_emulator() as emulator:          # port=0 picks a free port
        client = boto3.client("cloudformation", endpoint_url=emulator.url, region_name="us-east-1")
        ...
        emulator.reset()                          # wipe every service's state

moto runs in this process, so the small patches below change the server it serves. Each fixes one gap
that stopped the real template from deploying and updating correctly through the same code path as AWS
(change sets, outputs, parameters). They apply once per process, on the first `start_emulator()` (or an
explicit `install_patches()`), and only change moto, never webhookctl or the template. Measured gaps
without a patch here are listed in ../shared/docs/moto-notes.md ("What must be tested another way").

moto keeps its state per process: every emulator started in one process serves the same account, and
`reset()` on one empties them all.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["Emulator", "install_patches", "start_emulator"]

_patched = False
_patch_lock = threading.Lock()


@dataclass
class Emulator:
    """A running emulator: point boto3 at `url` (or set AWS_ENDPOINT_URL to it)."""

    url: str
    _server: Any

    def reset(self) -> None:
        """Forget every resource in every service (a few ms): a clean account for the next test."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(port: int = 0) -> Emulator:
    """Start moto's server on 127.0.0.1 (never all interfaces); port 0 picks a free one."""
    from moto.server import ThreadedMotoServer

    install_patches()
    # The server's per-request access log, and its tracebacks for the APIs moto lacks (which reach the
    # client as HTTP 500 anyway), would drown the caller's own output.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return Emulator(url=f"http://{host}:{bound}", _server=server)


def install_patches() -> None:
    """Apply every patch below, once per process."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        _register_missing_models()
        _patch_layer_version()
        _patch_function_create()
        _patch_deployment_ref()
        _patch_kms_key_policy()
        _patch_updates_keep_unupdatable_resources()
        _patch_change_sets()
        _patch_termination_protection()
        _patch_s3_tls_condition()
        _patch_apigateway_account()
        _patch_atomic_dynamodb()
        _patch_lambda_account_settings()
        _patched = True


def _patch_lambda_account_settings() -> None:
    """GetAccountSettings (deploy's concurrency preflight): the quota moto itself models for
    PutFunctionConcurrency (MOTO_LAMBDA_CONCURRENCY_QUOTA, AWS's default 1000), minus what functions reserve."""
    import os

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


def _patch_atomic_dynamodb() -> None:
    """DynamoDB applies each request atomically, and the handlers' exactly-once design rests on that
    (conditional writes). moto mutates items step by step with no lock, so with concurrent callers a
    reader can see half an update, or two conditional writers can both win: one lock per request."""
    from moto.dynamodb.responses import DynamoHandler

    original, lock = DynamoHandler.call_action, threading.RLock()

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action


def _patch_apigateway_account() -> None:
    """The emulated account is one where API Gateway already has its CloudWatch Logs role.

    On AWS that is a once-per-account-and-region setting (deploy's preflight asks for it), which moto's
    fresh accounts lack.
    """
    from moto.apigateway import models

    original = models.Account.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.cloudwatch_role_arn = "arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs"

    models.Account.__init__ = init


# --- resource types moto's CloudFormation ignores -------------------------------------------------
# moto skips a type it has no model for, and a `Ref` to it silently vanishes: the receiver's
# SIGNING_SECRETS_ARN variable and the SigningSecretArn output disappear, and `alarms status` finds no
# alarm. moto looks models up by `cloudformation_type()` among CloudFormationModel's direct subclasses
# (cached), so defining subclasses and clearing the cache registers them.

def _register_missing_models() -> None:
    from moto.cloudformation import parsing

    for model in _missing_models():
        assert model.cloudformation_type()  # defining the class registered it
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def _missing_models() -> list[type]:
    from moto.core.common_models import CloudFormationModel

    placeholders = [_placeholder_model(CloudFormationModel, kind, arn) for kind, arn in (
        # Policies and WAF have no behaviour a local run can observe; they get an identity so that
        # Refs and GetAtts to them resolve (a WebACLAssociation needs the WebACL's Arn).
        ("AWS::SQS::QueuePolicy", None),
        ("AWS::SNS::TopicPolicy", None),
        ("AWS::WAFv2::IPSet", "arn:aws:wafv2:{region}:{account}:regional/ipset/{name}/{name}"),
        ("AWS::WAFv2::WebACL", "arn:aws:wafv2:{region}:{account}:regional/webacl/{name}/{name}"),
        ("AWS::WAFv2::WebACLAssociation", None),
    )]
    return [_secret_model(), _alarm_model(), _stage_model(), _request_validator_model(), *placeholders]


def _secret_model() -> type:
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    class SecretModel(CloudFormationModel):
        """AWS::SecretsManager::Secret as a real secret; Ref = its ARN, as in AWS."""

        def __init__(self, arn: str, name: str) -> None:
            self.arn, self.name = arn, name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Id"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str, **kwargs: Any) -> SecretModel:
            props = cloudformation_json.get("Properties", {})
            backend = secretsmanager_backends[account_id][region_name]
            backend.create_secret(name=resource_name, secret_string=props.get("SecretString", "{}"),
                                  secret_binary=None, description=props.get("Description"),
                                  tags=props.get("Tags"), kms_key_id=props.get("KmsKeyId"),
                                  client_request_token=None, replica_regions=[], force_overwrite=False)
            return cls(backend.secrets[resource_name].arn, resource_name)

        def delete(self, account_id: str, region_name: str) -> None:
            secretsmanager_backends[account_id][region_name].delete_secret(
                self.arn, recovery_window_in_days=None, force_delete_without_recovery=True)

    return SecretModel


def _alarm_model() -> type:
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel

    class AlarmModel(CloudFormationModel):
        """AWS::CloudWatch::Alarm as a real alarm; Ref = its name, as in AWS."""

        def __init__(self, name: str, arn: str) -> None:
            self.name, self.arn = name, arn

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str, **kwargs: Any) -> AlarmModel:
            alarm = _put_alarm(cloudwatch_backends[account_id][region_name], resource_name,
                               cloudformation_json.get("Properties", {}))
            return cls(resource_name, alarm.alarm_arn)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: Any, account_id: str,
                                            region_name: str) -> AlarmModel:
            backend = cloudwatch_backends[account_id][region_name]
            backend.delete_alarms([original_resource.name])  # a new AlarmName replaces the alarm
            alarm = _put_alarm(backend, new_resource_name, cloudformation_json.get("Properties", {}))
            return cls(new_resource_name, alarm.alarm_arn)

        def delete(self, account_id: str, region_name: str) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

    return AlarmModel


def _stage_model() -> type:
    from moto.apigateway.models import apigateway_backends
    from moto.core.common_models import CloudFormationModel

    class StageModel(CloudFormationModel):
        """AWS::ApiGateway::Stage as a real stage (moto only makes one from Deployment.StageName)."""

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

    return StageModel


def _request_validator_model() -> type:
    from moto.apigateway.models import apigateway_backends
    from moto.core.common_models import CloudFormationModel

    class RequestValidatorModel(CloudFormationModel):
        """AWS::ApiGateway::RequestValidator as a real validator; Ref = its id."""

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

    return RequestValidatorModel


def _put_alarm(backend: Any, name: str, props: dict[str, Any]) -> Any:
    return backend.put_metric_alarm(
        name=name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
        comparison_operator=props.get("ComparisonOperator"),
        evaluation_periods=int(props.get("EvaluationPeriods", 1)), period=int(props.get("Period", 60)),
        threshold=float(props.get("Threshold", 0)), statistic=props.get("Statistic"),
        description=props.get("AlarmDescription"), dimensions=props.get("Dimensions", []),
        alarm_actions=props.get("AlarmActions", []), ok_actions=props.get("OKActions", []),
        insufficient_data_actions=props.get("InsufficientDataActions", []),
        datapoints_to_alarm=props.get("DatapointsToAlarm"),
        extended_statistic=props.get("ExtendedStatistic"),
        unit=props.get("Unit"), actions_enabled=props.get("ActionsEnabled", True),
        treat_missing_data=props.get("TreatMissingData"))


def _placeholder_model(base: type, kind: str, arn_pattern: str | None) -> type:
    """A model that creates nothing but has a stable identity (Ref) and Arn/Id attributes."""

    def __init__(self: Any, name: str, arn: str) -> None:
        self.name, self.arn = name, arn

    @classmethod
    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json.get("Properties", {})
        name = props.get("Name", resource_name)
        arn = (arn_pattern or "{name}").format(region=region_name, account=account_id, name=name)
        return cls(name, arn)

    @classmethod
    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        return original_resource

    return type(kind.replace("::", ""), (base,), {
        "__init__": __init__,
        "cloudformation_type": staticmethod(lambda: kind),
        "physical_resource_id": property(lambda self: self.arn if arn_pattern else self.name),
        "has_cfn_attr": classmethod(lambda cls, attr: attr in ("Arn", "Id")),
        "get_cfn_attribute": lambda self, attribute_name: self.arn if attribute_name == "Arn" else self.name,
        "create_from_cloudformation_json": create_from_cloudformation_json,
        "update_from_cloudformation_json": update_from_cloudformation_json,
        "delete": lambda self, account_id, region_name: None,
    })


# --- Lambda layers --------------------------------------------------------------------------------

def _patch_layer_version() -> None:
    """Ref(LayerVersion) must be the version ARN (moto gives a Python object, which breaks every later
    Function update); LayerName and CompatibleArchitectures are honoured; a changed layer publishes a
    new version, as CloudFormation replaces a LayerVersion."""
    from moto.awslambda.models import LayerVersion, lambda_backends

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        spec = {"Content": props["Content"], "LayerName": props.get("LayerName", resource_name)}
        for optional in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if optional in props:
                spec[optional] = props[optional]
        return lambda_backends[account_id][region_name].publish_layer_version(spec)

    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
               account_id: str, region_name: str) -> Any:
        return create(cls, new_resource_name, cloudformation_json, account_id, region_name)

    LayerVersion.physical_resource_id = property(lambda self: self.arn)
    LayerVersion.cloudformation_name_type = staticmethod(lambda: "LayerName")
    LayerVersion.has_cfn_attr = classmethod(lambda cls, attr: attr == "LayerVersionArn")
    LayerVersion.get_cfn_attribute = lambda self, attribute_name: self.arn
    LayerVersion.create_from_cloudformation_json = classmethod(create)
    LayerVersion.update_from_cloudformation_json = classmethod(update)


def _patch_function_create() -> None:
    """moto's CloudFormation drops Architectures, Layers and TracingConfig when it creates a function
    (its Lambda API keeps them, and updates apply Layers): set them as AWS would."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.create_from_cloudformation_json.__func__

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        function = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        props = cloudformation_json["Properties"]
        function.architectures = props.get("Architectures", function.architectures)
        function.tracing_config = props.get("TracingConfig", function.tracing_config)
        function.layers = function._get_layers_data(props.get("Layers", []))
        return function

    LambdaFunction.create_from_cloudformation_json = classmethod(create)


def _patch_deployment_ref() -> None:
    """Ref(AWS::ApiGateway::Deployment) must be the deployment id (moto gives a Python object, which the
    Stage then stores, and GetStages fails)."""
    from moto.apigateway.models import Deployment

    Deployment.physical_resource_id = property(lambda self: self.id)


def _patch_kms_key_policy() -> None:
    """A KeyPolicy written as a JSON object (troposphere/awacs output) is stored as a dict, and
    DescribeKey then fails; AWS stores the policy as a string, so the emulator does too."""
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        if isinstance(props.get("KeyPolicy"), dict):
            props = {**props, "KeyPolicy": json.dumps(props["KeyPolicy"])}
            cloudformation_json = {**cloudformation_json, "Properties": props}
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create)


def _patch_updates_keep_unupdatable_resources() -> None:
    """A resource type with no update handler in moto becomes None in the stack on update, so every
    Ref to it vanishes afterwards; keep the existing resource instead (AWS updates it in place)."""
    from moto.cloudformation import parsing

    original = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id: str, resource_json: Any, resources_map: Any,
                                  account_id: str, region_name: str) -> Any:
        updated = original(logical_id, resource_json, resources_map, account_id, region_name)
        return updated if updated is not None else resources_map[logical_id]

    parsing.parse_and_update_resource = parse_and_update_resource


# --- change sets ----------------------------------------------------------------------------------

def _patch_change_sets() -> None:
    """Change sets as AWS runs them:
    - an UPDATE whose only difference is a parameter (a new HandlersKey) lists the resources that use
      it (moto lists none), and a replaced LayerVersion also modifies the functions that use it;
    - an identical update gives a FAILED "didn't contain changes" change set, not a ValidationError;
    - executing a CREATE honours DependsOn (moto creates in template-key order), and after any
      execution the stack's Outputs, parameters, tags and template are those of the change set (moto
      keeps the stale or empty ones), and the stack's change sets are gone, as in AWS;
    - a change set that is not AVAILABLE cannot be executed;
    - a CREATE change set reuses a REVIEW_IN_PROGRESS stack of that name and is refused for any other
      existing stack (moto silently makes a second stack with the same name).
    """
    _patch_change_set_diff()
    _patch_change_set_execution()
    _patch_identical_update()
    _patch_create_change_set_on_existing_name()


def _patch_change_set_diff() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import Change, ChangeSet

    original_diff = parsing.ResourceMap.build_resource_diff

    def build_resource_diff(self: Any, other_template: Any, parameters: Any = None) -> Any:
        actions = original_diff(self, other_template, parameters)
        new = other_template["Resources"]
        replaced = {name for name in actions["Modify"] if new[name]["Type"] == "AWS::Lambda::LayerVersion"}
        for name, resource in new.items():
            untouched = name not in actions["Modify"] and name not in actions["Add"]
            if untouched and replaced & set(parsing.get_references_from_template(resource)):
                actions["Modify"].append(name)
        return actions

    def diff(self: Any) -> list[Any]:
        actions = self.stack.resource_map.build_resource_diff(self.template_dict, self.parameters)
        resources = self.template_dict.get("Resources", {})
        old = self.stack.resource_map._resource_json_map
        return [Change(action, name, (resources.get(name) or old[name])["Type"])
                for action, names in actions.items() for name in names]

    parsing.ResourceMap.build_resource_diff = build_resource_diff
    ChangeSet.diff = diff


def _patch_change_set_execution() -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        if change_set.execution_status != "AVAILABLE":
            raise ValidationError(message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its "
                                          f"current execution status of [{change_set.execution_status}]")
        stack = self.stacks[change_set.stack_id]
        kind = change_set.change_set_type
        stack._add_stack_event(f"{kind}_IN_PROGRESS", resource_status_reason="User Initiated")
        stack.template = change_set.template
        stack._parse_template()
        stack.parameters = change_set.parameters
        stack.tags = change_set.tags or stack.tags
        if kind == "CREATE":
            stack.resource_map = stack._create_resource_map()
            stack.resource_map.create(stack.template_dict)
        else:
            stack.resource_map.update(stack.template_dict, change_set.parameters)
        stack.output_map = stack._create_output_map()
        for export in stack.exports:
            self.exports[export.name] = export
        stack.status = f"{kind}_COMPLETE"
        stack._add_stack_event(stack.status)
        # "If the stack update succeeds, CloudFormation deletes all change sets associated with the stack."
        for change_set_id in [i for i, c in self.change_sets.items() if c.stack_id == stack.stack_id]:
            del self.change_sets[change_set_id]

    CloudFormationBackend.execute_change_set = execute_change_set


def _patch_identical_update() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    original_validate = CloudFormationResponse._validate_different_update

    def validate_different_update(self: Any, *args: Any, **kwargs: Any) -> None:
        if self._get_action() != "CreateChangeSet":
            original_validate(self, *args, **kwargs)

    CloudFormationResponse._validate_different_update = validate_different_update


def _patch_create_change_set_on_existing_name() -> None:
    from moto.cloudformation.exceptions import AlreadyExistsException
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.create_change_set

    def create_change_set(self: Any, stack_name: str, change_set_name: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("change_set_type") == "CREATE":
            for stack_id, stack in list(self.stacks.items()):
                if stack.name != stack_name:
                    continue
                if stack.status != "REVIEW_IN_PROGRESS":
                    raise AlreadyExistsException(f"Stack [{stack_name}] already exists")
                del self.stacks[stack_id]
        return original(self, stack_name, change_set_name, *args, **kwargs)

    CloudFormationBackend.create_change_set = create_change_set


def _patch_termination_protection() -> None:
    """UpdateTerminationProtection (not in moto) sets the flag DescribeStacks reports, and DeleteStack
    refuses a protected stack with AWS's message."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    def update_termination_protection(self: Any) -> Any:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection", False)
        return ActionResult({"StackId": stack.stack_id})

    original_delete = CloudFormationBackend.delete_stack

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        for stack in list(self.stacks.values()):
            if name_or_stack_id in (stack.name, stack.stack_id) and stack.enable_termination_protection:
                raise ValidationError(message=f"Stack [{stack.name}] cannot be deleted while "
                                              "TerminationProtection is enabled")
        original_delete(self, name_or_stack_id)

    CloudFormationResponse.update_termination_protection = update_termination_protection
    CloudFormationBackend.delete_stack = delete_stack


# --- S3 -------------------------------------------------------------------------------------------

def _patch_s3_tls_condition() -> None:
    """moto ignores policy Conditions, so the standard "Deny unless aws:SecureTransport" statement
    denies every request. Requests to the emulator stand in for TLS ones: drop exactly that statement
    before evaluating a bucket policy (everything else is evaluated as moto does)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for s in statements if not _denies_only_insecure_transport(s)]
        return IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def _denies_only_insecure_transport(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    value = (condition.get("Bool") or {}).get("aws:SecureTransport") if list(condition) == ["Bool"] else None
    values = value if isinstance(value, list) else [value]
    return statement.get("Effect") == "Deny" and [str(v).lower() for v in values] == ["false"]
