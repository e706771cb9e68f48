"""CloudFormation: stack updates, change sets and termination protection as AWS runs them, and the helpers other
modules use to register the resource types moto's CloudFormation lacks.

Each `patch_*` changes moto; the predicate after it is its canary (see patch.py), run on unpatched moto.
"""

from __future__ import annotations

from typing import Any

from webhookctl.tryit.emulator.patch import StandIn, import_beside, stand_in_package
from webhookctl.tryit.emulator.probe import Probe, rest_api, template


def register_model(model: type) -> None:
    """moto looks a resource type up among CloudFormationModel's direct subclasses, cached: defining the
    subclass (done by the caller) and clearing the caches registers it."""
    from moto.cloudformation import parsing

    assert model.cloudformation_type()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def placeholder_model(kind: str, arn_pattern: str | None = None) -> type:
    """A model that creates nothing but has a stable identity: its Ref, and Arn/Id attributes, resolve."""
    from moto.core.common_models import CloudFormationModel

    def __init__(self: Any, name: str, arn: str) -> None:
        self.name, self.arn = name, arn

    @classmethod  # type: ignore[misc]
    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        name = cloudformation_json.get("Properties", {}).get("Name", resource_name)
        return cls(name, (arn_pattern or "{name}").format(region=region_name, account=account_id, name=name))

    @classmethod  # type: ignore[misc]
    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        return original_resource

    return type(kind.replace("::", ""), (CloudFormationModel,), {
        "__init__": __init__,
        "cloudformation_type": staticmethod(lambda: kind),
        "physical_resource_id": property(lambda self: self.arn if arn_pattern else self.name),
        "has_cfn_attr": classmethod(lambda cls, attr: attr in ("Arn", "Id")),
        "get_cfn_attribute": lambda self, attribute_name: self.arn if attribute_name == "Arn" else self.name,
        "create_from_cloudformation_json": create_from_cloudformation_json,
        "update_from_cloudformation_json": update_from_cloudformation_json,
        "delete": lambda self, account_id, region_name: None,
    })


# --- updates -------------------------------------------------------------------------------------------

def patch_updates_keep_resources() -> None:
    """A resource type with no update handler in moto becomes None in the stack on update, so every Ref to it
    vanishes afterwards; keep the existing resource instead (AWS updates it in place)."""
    from moto.cloudformation import parsing

    original = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id: str, resource_json: Any, resources_map: Any,
                                  account_id: str, region_name: str) -> Any:
        updated = original(logical_id, resource_json, resources_map, account_id, region_name)
        return updated if updated is not None else resources_map[logical_id]

    parsing.parse_and_update_resource = parse_and_update_resource


def update_forgets_a_resource(aws: Probe) -> bool:
    """A DynamoDB table (moto has no update handler for tables) drops out of the stack when an update changes it."""
    def table(tag: str) -> dict[str, Any]:
        return {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "Tags": [{"Key": "probe", "Value": tag}]}}}

    cloudformation = aws.client("cloudformation")
    aws.create_stack(table("1"))
    cloudformation.update_stack(StackName="probe", TemplateBody=template(table("2")))
    listed = cloudformation.list_stack_resources(StackName="probe")["StackResourceSummaries"]
    return "Table" not in {r["LogicalResourceId"] for r in listed}


# --- change sets ---------------------------------------------------------------------------------------

def patch_change_set_diff() -> None:
    """An UPDATE change set whose only difference is a parameter (a new HandlersKey) lists the resources that
    use it (moto's change sets ignore parameters), and a replaced LayerVersion also modifies the resources that
    reference it, in the change set and in the update itself, as CloudFormation's replacement does."""
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
        types = {**self.stack.template_dict.get("Resources", {}), **self.template_dict.get("Resources", {})}
        return [Change(action, name, types[name]["Type"]) for action, names in actions.items() for name in names]

    parsing.ResourceMap.build_resource_diff = build_resource_diff
    ChangeSet.diff = diff


def change_set_misses_changes(aws: Probe) -> bool:
    """A change set that only changes a parameter lists nothing; one that replaces a layer omits its function."""
    return _parameter_change_lists_nothing(aws) or _layer_change_omits_its_function(aws)


def _parameter_change_lists_nothing(aws: Probe) -> bool:
    resources = {"Queue": {"Type": "AWS::SQS::Queue",
                           "Properties": {"Tags": [{"Key": "probe", "Value": {"Ref": "Tag"}}]}}}
    aws.create_stack(resources, parameters={"Tag": "1"})
    return not _changes(aws, resources, parameters={"Tag": "2"})


def _layer_change_omits_its_function(aws: Probe) -> bool:
    def resources(layer_key: str) -> dict[str, Any]:
        return {"Layer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": code[layer_key]}},
                "Function": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Role": role, "Runtime": "python3.11", "Handler": "probe.handler", "Code": code["function"],
                    "Layers": [{"Ref": "Layer"}]}}}

    code = {key: aws.code_object(f"{key}.zip") for key in ("layer-1", "layer-2", "function")}
    role = aws.role_arn()
    aws.create_stack(resources("layer-1"), name="layered")
    return "Function" not in _changes(aws, resources("layer-2"), name="layered")


def _changes(aws: Probe, resources: dict[str, Any], name: str = "probe",
             parameters: dict[str, str] | None = None) -> set[str]:
    """The logical ids an UPDATE change set to this template lists."""
    cloudformation = aws.client("cloudformation")
    created = cloudformation.create_change_set(
        StackName=name, ChangeSetName="diff", ChangeSetType="UPDATE",
        TemplateBody=template(resources, parameters=parameters),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()])
    changes = cloudformation.describe_change_set(ChangeSetName=created["Id"])["Changes"]
    return {c["ResourceChange"]["LogicalResourceId"] for c in changes}


def patch_create_change_set_order() -> None:
    """moto executes a CREATE change set as an update, adding resources in template-key order (troposphere
    sorts keys, so a Deployment comes before its Method and fails); AWS, and moto's CreateStack, honour DependsOn."""
    from moto.cloudformation.models import ChangeSet

    original = ChangeSet.apply

    def apply(self: Any) -> None:
        if self.change_set_type != "CREATE":
            return original(self)
        resources = self.stack.resource_map
        # An update to no resources loads the change set's parameters, mappings and conditions into the empty
        # REVIEW_IN_PROGRESS stack; create() then builds every resource in dependency order.
        resources.update({**self.template_dict, "Resources": {}}, self.parameters)
        resources.create(self.template_dict)

    ChangeSet.apply = apply


def create_change_set_ignores_depends_on(aws: Probe) -> bool:
    """Executing a CREATE change set makes a Deployment before the Method it DependsOn (moto then fails)."""
    from botocore.parsers import ResponseParserError

    cloudformation = aws.client("cloudformation")
    cloudformation.create_change_set(StackName="probe", ChangeSetName="create", ChangeSetType="CREATE",
                                     TemplateBody=template(rest_api()))
    try:
        cloudformation.execute_change_set(ChangeSetName="create", StackName="probe")
    except ResponseParserError as exc:  # API Gateway's JSON error inside CloudFormation's XML (moto-notes §1)
        return "contain any methods" in str(exc)
    return False


def patch_change_set_execution() -> None:
    """Executing a change set as AWS does: only an AVAILABLE one (moto runs a FAILED or executed one, or fails
    on an unknown name); afterwards the stack's Outputs, parameters, tags and template are the change set's (moto
    keeps the stale or empty ones, so a new stack has no Outputs), and its change sets are gone."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.parsing import OutputMap

    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        if change_set.execution_status != "AVAILABLE":
            raise ValidationError(message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its "
                                          f"current execution status of [{change_set.execution_status}]")
        original(self, change_set.change_set_id, stack_name)
        stack = self.stacks[change_set.stack_id]
        stack.template_dict, stack.parameters = change_set.template_dict, change_set.parameters
        stack.tags = change_set.tags or stack.tags
        stack.output_map = OutputMap(stack.resource_map, stack.template_dict, stack.stack_id)
        self.exports.update((export.name, export) for export in stack.exports)
        # "If the stack update succeeds, CloudFormation deletes all change sets associated with the stack."
        for change_set_id in [i for i, c in self.change_sets.items() if c.stack_id == stack.stack_id]:
            del self.change_sets[change_set_id]

    CloudFormationBackend.execute_change_set = execute_change_set


def execution_leaves_the_stack_stale(aws: Probe) -> bool:
    """A stack made by a CREATE change set has no Outputs or keeps its change sets; a FAILED one executes."""
    from botocore.exceptions import ClientError

    cloudformation = aws.client("cloudformation")
    body = template({"Queue": {"Type": "AWS::SQS::Queue"}}, outputs=["Queue"])
    cloudformation.create_change_set(StackName="probe", ChangeSetName="create", ChangeSetType="CREATE",
                                     TemplateBody=body)
    cloudformation.execute_change_set(ChangeSetName="create", StackName="probe")
    stale = not aws.outputs() or bool(cloudformation.list_change_sets(StackName="probe")["Summaries"])
    same = cloudformation.create_change_set(StackName="probe", ChangeSetName="same", ChangeSetType="UPDATE",
                                            TemplateBody=body)  # no changes: FAILED
    try:
        cloudformation.execute_change_set(ChangeSetName=same["Id"])
    except ClientError:
        return stale
    return True


def patch_identical_update() -> None:
    """An UPDATE change set identical to the stack becomes a FAILED "didn't contain changes" change set on AWS
    (deploy reads that as "no changes"); moto's request handler refuses it first with UpdateStack's error."""
    from moto.cloudformation.responses import CloudFormationResponse

    original = CloudFormationResponse.create_change_set

    def create_change_set(self: Any) -> Any:
        # Only for this request (moto makes a handler per request): moto's backend then marks the change set
        # FAILED with AWS's reason.
        self._validate_different_update = lambda *args, **kwargs: None
        return original(self)

    CloudFormationResponse.create_change_set = create_change_set


def identical_change_set_is_refused(aws: Probe) -> bool:
    """CreateChangeSet with the stack's own template and parameters raises "No updates are to be performed"."""
    from botocore.exceptions import ClientError

    resources = {"Queue": {"Type": "AWS::SQS::Queue",
                           "Properties": {"Tags": [{"Key": "probe", "Value": {"Ref": "Tag"}}]}}}
    aws.create_stack(resources, parameters={"Tag": "1"})
    try:
        _changes(aws, resources, parameters={"Tag": "1"})
    except ClientError as exc:
        return "No updates are to be performed" in str(exc)
    return False


def patch_create_change_set_on_existing_stack() -> None:
    """A CREATE change set reuses a REVIEW_IN_PROGRESS stack of that name and is refused for any other existing
    stack, as in AWS (moto silently makes a second stack with the same name)."""
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


def create_change_set_duplicates_a_stack(aws: Probe) -> bool:
    """A CREATE change set for the name of a live stack is accepted (moto makes a second stack)."""
    from botocore.exceptions import ClientError

    aws.create_stack({"Queue": {"Type": "AWS::SQS::Queue"}})
    try:
        aws.client("cloudformation").create_change_set(
            StackName="probe", ChangeSetName="again", ChangeSetType="CREATE",
            TemplateBody=template({"Queue": {"Type": "AWS::SQS::Queue"}}))
    except ClientError:
        return False
    return True


# --- termination protection ----------------------------------------------------------------------------

def patch_termination_protection() -> None:
    """UpdateTerminationProtection (not in moto) sets the flag DescribeStacks reports, and DeleteStack refuses a
    protected stack with AWS's message."""
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


def termination_protection_is_missing(aws: Probe) -> bool:
    """UpdateTerminationProtection is not implemented, or a protected stack can still be deleted."""
    from botocore.exceptions import ClientError

    cloudformation = aws.client("cloudformation")
    aws.create_stack({"Queue": {"Type": "AWS::SQS::Queue"}})
    try:
        cloudformation.update_termination_protection(StackName="probe", EnableTerminationProtection=True)
    except NotImplementedError:  # in-process moto's way of saying so (a server answers 500)
        return True
    try:
        cloudformation.delete_stack(StackName="probe")
    except ClientError:
        return False
    return True


# --- cost ----------------------------------------------------------------------------------------------

def patch_json_templates_parse_as_json() -> None:
    """moto reads every template body with PyYAML's pure-Python loader, JSON ones too (JSON is YAML): 0.3 s for
    the stack's 100 KB template against 3 ms for json.loads. A body that is a JSON object is read as JSON, as
    CloudFormation reads it; anything else goes to moto's YAML loader as before."""
    import json

    import yaml
    from moto.cloudformation import models, responses

    class JsonFirstYaml:
        """The yaml module as moto's CloudFormation sees it."""

        def __getattr__(self, name: str) -> Any:
            return getattr(yaml, name)

        @staticmethod
        def load(stream: Any, Loader: Any) -> Any:  # noqa: N803 (PyYAML's own spelling)
            if isinstance(stream, str) and stream.lstrip().startswith("{"):
                try:
                    return json.loads(stream)
                except ValueError:
                    pass  # not JSON after all: YAML's flow mappings start with a brace too
            return yaml.load(stream, Loader=Loader)

    models.yaml = responses.yaml = JsonFirstYaml()


def json_templates_go_through_pure_python_yaml(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): creating a change set from a JSON body runs PyYAML's pure-Python
    Loader over it (the C one, or json, would each be about 100x faster)."""
    from unittest import mock

    import yaml

    loaders: list[Any] = []
    load = yaml.load

    def spy(stream: Any, Loader: Any) -> Any:  # noqa: N803
        loaders.append(Loader)
        return load(stream, Loader=Loader)

    with mock.patch.object(yaml, "load", spy):
        aws.client("cloudformation").create_change_set(
            StackName="probe", ChangeSetName="probe", ChangeSetType="CREATE",
            TemplateBody=template({"Queue": {"Type": "AWS::SQS::Queue"}}))
    return yaml.Loader in loaders


# Services moto's CloudFormation imports only so that their resource models exist, and that the stack's own
# services do not import anyway (Lambda brings ECR and Kinesis). EC2 alone is a third of a second of JSON.
DEFERRED_SERVICES = ("autoscaling", "batch", "datapipeline", "ec2", "ecs", "efs", "elb", "elbv2", "emr", "iot",
                     "rds", "redshift", "route53", "sagemaker", "ssm", "stepfunctions")
# The classes parsing's import section takes from deferred services by name, for isinstance checks.
DEFERRED_CLASSES = (("moto.ec2.models.core", "TaggedEC2Resource"),
                    ("moto.ec2.models.launch_templates", "LaunchTemplate"))


def patch_deferred_services() -> None:
    """moto's CloudFormation imports some 30 services up front for their resource models (0.4 s, more than the
    rest of the sandbox's start); the ones in DEFERRED_SERVICES now load the first time a template names a
    type no loaded model covers, so a template reads exactly as before. A no-op once parsing is imported."""
    import sys

    if "moto.cloudformation.parsing" in sys.modules:
        return
    deferred = [name for name in DEFERRED_SERVICES if f"moto.{name}" not in sys.modules]
    parsing = import_beside("moto.cloudformation.parsing", _stand_ins(deferred))
    _load_on_unknown_types(parsing, deferred)


def _stand_ins(services: list[str]) -> list[StandIn]:
    """The modules parsing's import section reads, and the names it takes from them."""
    import importlib
    import sys

    class DeferredBackends:
        def __init__(self, module: str, name: str) -> None:
            self.module, self.name = module, name

        def __getitem__(self, account_id: str) -> Any:
            return getattr(importlib.import_module(self.module), self.name)[account_id]

    class DeferredClass(type):
        def __instancecheck__(cls, instance: Any) -> bool:  # nothing is an instance until its module is loaded
            real = sys.modules.get(cls.__module__)
            return real is not None and isinstance(instance, getattr(real, cls.__name__))

    packages = {service: stand_in_package(f"moto.{service}", models=stand_in_package(f"moto.{service}.models"))
                for service in services}
    stand_ins = [module for package in packages.values() for module in (package, package.models)]
    for module, name in DEFERRED_CLASSES:
        if module.split(".")[1] in packages:
            stand_ins.append(StandIn(module))
            setattr(stand_ins[-1], name, DeferredClass(name, (), {"__module__": module}))
    if "ssm" in packages:
        packages["ssm"].ssm_backends = DeferredBackends("moto.ssm", "ssm_backends")
    return stand_ins


def _load_on_unknown_types(parsing: Any, deferred: list[str]) -> None:
    """Before moto looks a type up, import the deferred services if no loaded model covers it."""
    import functools
    import importlib

    def covering(lookup: Any) -> Any:
        @functools.wraps(lookup)
        def look_up(resource_type: str) -> Any:
            if (deferred and resource_type.startswith("AWS::") and resource_type not in parsing.NULL_MODELS
                    and resource_type not in parsing.get_model_map()):
                for service in deferred:
                    importlib.import_module(f"moto.{service}.models")
                deferred.clear()
                for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
                    cached.cache_clear()
            return lookup(resource_type)

        return look_up

    parsing.resource_class_from_type = covering(parsing.resource_class_from_type)
    parsing.resource_name_property_from_type = covering(parsing.resource_name_property_from_type)


def cloudformation_imports_unused_services(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): importing moto's CloudFormation imports EC2, Auto Scaling and RDS
    among the rest, whatever the template holds (the modules in parsing's namespace are the loaded ones)."""
    import sys

    from moto.cloudformation import parsing

    return all(vars(parsing).get(f"{alias}_models", False) is sys.modules.get(f"moto.{service}.models")
               for alias, service in (("ec2", "ec2"), ("as", "autoscaling"), ("rds", "rds")))
