"""The stack: gather what is deployed, plan a deploy as a value, apply it through a change set, stream events."""
