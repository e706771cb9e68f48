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


def _probe_table(aws: Probe, name: str) -> Any:
    """A DynamoDB client, with table NAME keyed by the string "k"."""
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    return dynamodb


def dynamodb_has_no_lock(aws: Probe) -> bool:
    """Structural: a race cannot be provoked deterministically, so look for any lock in moto's DynamoDB request
    handler, backend or table (the patch adds one to the handler); one in moto means it may serialise requests
    itself: check that, then delete the patch."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.responses import DynamoHandler

    _probe_table(aws, "probe")
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
    function of the expression with its names and the values it names, and the Op tree it gives is never changed
    by being evaluated, so one parse per distinct (expression, names, values named) serves every later request."""
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
        # Only values the expression can name reach its Op tree: a request's other values (its SET's) are
        # left out of the key, or no two requests would share one.
        named = {name: value for name, value in values.items() if name in expr} \
            if isinstance(expr, str) and isinstance(values, dict) else values
        try:
            key = (expr, json.dumps(names, sort_keys=True), json.dumps(named, sort_keys=True))
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

    dynamodb = _probe_table(aws, "probe-conditions")
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


PARSED_UPDATES_KEPT = 4096


def patch_cached_update_parses() -> None:
    """moto parses an UpdateExpression twice per UpdateItem (its request handler lists the names used, then its
    backend parses again), copies the tree for its validator, and runs ten validation passes over the copy: the
    processor's UpdateItems cost twice a one-attribute SET. The parse is a pure function of the string and no
    caller changes the tree it gets (the validator works on its copy), so one parse serves every request that
    repeats the string, and its copies load from bytes pickled once. Three passes (one clause of each kind, no
    overlapping paths, no key attribute set) read only the tree, its names and the table's key: once a
    remembered tree has passed every pass with the same names and key, those three are skipped; the passes
    that read the item and the values always run."""
    import json
    import pickle

    from moto.dynamodb.parsing import expressions, validators

    make, copy_tree = expressions.UpdateExpressionParser.make, validators.deepcopy
    parsed: dict[str, Any] = {}
    pickled: dict[int, bytes] = {}  # id(tree) -> its bytes: ids stay unique while `parsed` holds the trees
    validated: set[tuple[int, str, tuple]] = set()
    structural = (validators.ActionCountValidator, validators.OverlappingPathsValidator,
                  validators.UpdateHashRangeKeyValidator)

    def remembered(cls: Any, expression: str) -> Any:
        tree = parsed.get(expression)
        if tree is None:
            tree = make(expression)  # a bad expression raises here, every time
            if len(parsed) >= PARSED_UPDATES_KEPT:
                parsed.clear(), pickled.clear(), validated.clear()
            parsed[expression], pickled[id(tree)] = tree, pickle.dumps(tree, pickle.HIGHEST_PROTOCOL)
        return tree

    def tree_copy(value: Any, memo: Any = None) -> Any:
        blob = pickled.get(id(value))
        return pickle.loads(blob) if blob is not None else copy_tree(value, memo)  # noqa: S301 - our own bytes

    def validate(self: Any) -> Any:
        shape = (id(self._webhookctl_tree), json.dumps(self.expression_attribute_names, sort_keys=True),
                 tuple(self.table.table_key_attrs)) if id(self._webhookctl_tree) in pickled else None
        node = self.node_to_validate
        for processor in self.processors:
            if not (shape in validated and isinstance(processor, structural)):
                node = processor.traverse(node)
        if shape is not None:
            validated.add(shape)
        return node

    _remember_validated_tree(validators.UpdateExpressionValidator)
    expressions.UpdateExpressionParser.make = classmethod(remembered)
    validators.deepcopy = tree_copy
    validators.UpdateExpressionValidator.validate = validate


def _remember_validated_tree(validator: type) -> None:
    """The validator keeps the tree it was given (it validates a copy), for the shape its passes are known by."""
    init = validator.__init__

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        self._webhookctl_tree = expression
        init(self, expression, *args, **kwargs)

    validator.__init__ = __init__


def each_update_parses_its_expression(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): a second identical UpdateItem tokenizes its UpdateExpression again."""
    from unittest import mock

    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    dynamodb = _probe_table(aws, "probe-updates")
    request = {"TableName": "probe-updates", "Key": {"k": {"S": "1"}}, "UpdateExpression": "SET #s = :s",
               "ExpressionAttributeNames": {"#s": "s"}, "ExpressionAttributeValues": {":s": {"S": "x"}}}
    dynamodb.update_item(**request)
    with mock.patch.object(ExpressionTokenizer, "make_list", side_effect=ExpressionTokenizer.make_list) as tokenized:
        dynamodb.update_item(**request)
    return tokenized.call_count > 0
