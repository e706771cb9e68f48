"""DynamoDB: each request applied atomically, as the handlers' conditional writes assume."""

from __future__ import annotations

import threading
from typing import Any

from webhookctl.tryit.emulator.patch import run_under
from webhookctl.tryit.emulator.probe import ACCOUNT, REGION, Probe, holds_a_lock


def patch_atomic_requests() -> None:
    """DynamoDB applies each request atomically, and the handlers' exactly-once design rests on that
    (conditional writes). moto mutates items step by step with no lock, so with concurrent callers a reader can
    see half an update, or two conditional writers can both win: one lock per request."""
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    DynamoHandler.request_lock = threading.RLock()
    run_under(DynamoHandler.request_lock, DynamoHandler, "call_action")
    # CloudFormation reads a table too, outside DynamoDB's requests: DescribeStacks resolves an Output's GetAtt
    # through Table.describe(), which iterates the items another thread may be writing ("dictionary changed size
    # during iteration", a 500, seen with 2,000 webhooks in the sandbox). Those reads take the same lock.
    run_under(DynamoHandler.request_lock, Table, "get_cfn_attribute")


def dynamodb_has_no_lock(aws: Probe) -> bool:
    """Structural: a race cannot be provoked deterministically, so look for any lock in moto's DynamoDB request
    handler, backend or table (the patch adds one to the handler); one in moto means it may serialise requests
    itself: check that, then delete the patch."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.responses import DynamoHandler

    aws.client("dynamodb").create_table(
        TableName="probe", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    backend = dynamodb_backends[ACCOUNT][REGION]
    return not holds_a_lock(DynamoHandler, backend, backend.get_table("probe"))


# --- cost ----------------------------------------------------------------------------------------------

def patch_fast_expression_copies() -> None:
    """moto's update validator deep-copies the parsed UpdateExpression before resolving it against the item, with
    copy.deepcopy: a fifth of every UpdateItem (a twentieth of the sandbox's CPU). The tree is plain objects, so a
    pickle round trip gives the same copy in a third of the time; anything else is deep-copied as before."""
    import copy
    import pickle

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node

    def tree_copy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Node):
            try:
                return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own bytes
            except (pickle.PicklingError, TypeError, AttributeError):
                pass
        return copy.deepcopy(value, memo)

    validators.deepcopy = tree_copy


def update_expressions_are_deep_copied(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): the update validator copies expression trees with copy.deepcopy."""
    import copy

    from moto.dynamodb.parsing import validators

    return validators.deepcopy is copy.deepcopy


PARSED_CONDITIONS_KEPT = 4096


def patch_cached_condition_parses() -> None:
    """moto parses a ConditionExpression afresh for every request, twice for a PutItem or UpdateItem (its request
    handler checks the names used, then its backend evaluates): a tenth of every UpdateItem. The parse is a pure
    function of the expression with its names and values, and the Op tree it gives is never changed by being
    evaluated, so one parse per distinct (expression, names, values) serves every later request."""
    import json

    from moto.dynamodb import comparisons, models, responses

    make = comparisons.create_condition_expression_parser
    parsed: dict[tuple[Any, str, str], Any] = {}

    class Parsed:
        """A parser whose parse() has run: it gives back the same Op and keeps what it found on the way."""

        def __init__(self, parser: Any) -> None:
            self._parser, self._op = parser, parser.parse()  # a bad expression raises here, as parse() would

        def parse(self) -> Any:
            return self._op

        def __getattr__(self, name: str) -> Any:
            return getattr(self._parser, name)

    def create_condition_expression_parser(expr: Any, names: Any, values: Any) -> Any:
        try:
            key = (expr, json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
        except (TypeError, ValueError):
            return make(expr, names, values)
        if key not in parsed:
            if len(parsed) >= PARSED_CONDITIONS_KEPT:
                parsed.clear()
            parsed[key] = Parsed(make(expr, names, values))
        return parsed[key]

    for module in (comparisons, models, responses):
        module.create_condition_expression_parser = create_condition_expression_parser


def each_request_parses_its_condition(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): a second identical conditional PutItem parses its condition again."""
    from unittest import mock

    from moto.dynamodb.comparisons import ConditionExpressionParser

    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(TableName="probe-conditions", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    request = {"TableName": "probe-conditions", "ConditionExpression": "attribute_not_exists(#k)",
               "ExpressionAttributeNames": {"#k": "k"}}
    dynamodb.put_item(Item={"k": {"S": "1"}}, **request)
    with mock.patch.object(ConditionExpressionParser, "parse", autospec=True,
                           side_effect=ConditionExpressionParser.parse) as parses:
        dynamodb.put_item(Item={"k": {"S": "2"}}, **request)
    return parses.call_count > 0


def patch_fast_traversals() -> None:
    """Each of the ten passes moto's update validator makes over an UpdateExpression asks its traverser for its
    node-type map at every node, and the map is a new dict each time: 750 isinstance checks and 300 dicts for a
    one-attribute SET, a quarter of an UpdateItem. A traverser's map never changes (node classes to its own
    methods), so each traverser builds it once."""
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    def processing_map(traverser: Any) -> dict:
        known = traverser.__dict__.get("_webhookctl_processing_map")
        if known is None:
            known = traverser.__dict__["_webhookctl_processing_map"] = traverser._processing_map()
        return known

    def nodes_to_be_processed(self: Any) -> tuple:
        known = self.__dict__.get("_webhookctl_processed_types")
        if known is None:
            known = self.__dict__["_webhookctl_processed_types"] = tuple(processing_map(self))
        return known

    def process(self: Any, node: Any) -> Any:
        for class_key, processor in processing_map(self).items():
            if isinstance(node, class_key):
                return processor(node)
        return None

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed
    DepthFirstTraverser.process = process


def traversers_rebuild_their_maps(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): a traverser asked twice for the node types it processes builds
    its map twice."""
    from unittest import mock

    from moto.dynamodb.parsing.validators import ExpressionAttributeValueProcessor

    traverser = ExpressionAttributeValueProcessor({":v": {"S": "x"}})
    with mock.patch.object(ExpressionAttributeValueProcessor, "_processing_map", autospec=True,
                           side_effect=ExpressionAttributeValueProcessor._processing_map) as built:
        traverser.nodes_to_be_processed()
        traverser.nodes_to_be_processed()
    return built.call_count > 1
