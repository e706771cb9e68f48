"""moto's URL routing: werkzeug rules, one per operation of each REST service moto serves (and per URL of its
server's per-service apps), made on each service's first request."""

from __future__ import annotations

from typing import Any

from webhookctl.tryit.emulator.probe import Probe

_COMPILED_BUILDER = "<werkzeug routing>"  # the file name werkzeug compiles a rule's URL builders under


def patch_lazy_url_builders() -> None:
    """werkzeug compiles two URL builders per rule (generated source, compiled: 0.05 s of `local up` for a few
    hundred rules) when the rule is bound; moto only ever matches URLs. Each builder is compiled on its first
    build instead, then replaces itself."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder

    def lazy_builder(self: Any, append_unknown: bool = True) -> Any:
        attribute = "_build_unknown" if append_unknown else "_build"

        def build(rule: Any, **values: Any) -> Any:
            built = compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, attribute, built)
            return built(**values)

        return build

    Rule._compile_builder = lazy_builder


def rules_compile_url_builders(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): a rule bound to a map holds URL builders werkzeug compiled."""
    from werkzeug.routing import Map, Rule

    rule = Rule("/probe/<name>", endpoint="probe")
    Map([rule])
    return rule._build.__code__.co_filename == _COMPILED_BUILDER
