"""moto's URL routing: werkzeug rules, one per operation of each REST service moto serves (and per URL of its
server's per-service apps), made on each service's first request."""

from __future__ import annotations

from typing import Any

from webhookctl.tryit.emulator.probe import Probe

_BUILDER_FILENAME = "<werkzeug routing>"  # what werkzeug compiles a rule's URL builders under


def patch_lazy_url_builders() -> None:
    """werkzeug compiles two URL builders per rule as it binds it (0.05 s of `local up`), and moto never builds
    a URL: each builder is compiled on its first use instead, then replaces itself."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder

    def lazy_builder(self: Any, append_unknown: bool = True) -> Any:
        attribute = "_build_unknown" if append_unknown else "_build"

        def build(rule: Any, /, **values: Any) -> Any:  # positional-only: a URL may have a value named "rule"
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
    return compiled(rule._build)


def compiled(builder: Any) -> bool:
    """Whether a rule's builder is one werkzeug compiled (not a lazy stand-in)."""
    return builder.__code__.co_filename == _BUILDER_FILENAME
