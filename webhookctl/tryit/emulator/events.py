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
