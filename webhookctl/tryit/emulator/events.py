"""EventBridge: a Ref to an AWS::Events::EventBus (the bus's name, as AWS resolves it)."""

from __future__ import annotations

from webhookctl.tryit.emulator.probe import Probe


def patch_event_bus_ref() -> None:
    """moto's EventBus model has no physical id, so a Ref to it resolves to the model object itself, and the
    first function whose environment holds it cannot be described (moto's JSON encoder raises)."""
    from moto.events.models import EventBus

    EventBus.physical_resource_id = property(lambda bus: bus.name)


def event_bus_ref_is_not_its_name(aws: Probe) -> bool:
    """An Output `Ref` to a bus is something other than the bus's name."""
    try:
        outputs = aws.create_stack({"Probed": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "probe-bus"}}},
                                   outputs=["Probed"])
    except TypeError:  # moto cannot even serialise the stack's outputs
        return True
    return outputs.get("Probed") != "probe-bus"


def patch_cached_input_paths() -> None:
    """moto delivers each event to each target by filling an input template from JSONPath expressions (the
    default one has ten), and builds a new JSONPath parser, yacc tables and all, for every expression of every
    delivery: a tenth of the sandbox's CPU. A parse is a pure function of the expression, so it is remembered."""
    import functools

    import jsonpath_ng.ext

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def each_delivery_builds_jsonpath_parsers(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): a second event delivered to a rule's target builds JSONPath parsers
    again, for the same expressions as the first."""
    from unittest import mock

    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    events, sqs = aws.client("events"), aws.client("sqs")
    queue = sqs.create_queue(QueueName="probe-target")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="probe", EventPattern='{"source": ["probe"]}')
    events.put_targets(Rule="probe", Targets=[{"Id": "queue", "Arn": queue_arn}])
    entry = {"Source": "probe", "DetailType": "probe", "Detail": "{}"}
    events.put_events(Entries=[entry])
    with mock.patch.object(ExtendedJsonPathParser, "__init__", autospec=True,
                           side_effect=ExtendedJsonPathParser.__init__) as built:
        events.put_events(Entries=[entry])
    return built.call_count > 0
