"""What stands in front of the receiver on AWS, emulated for the sandbox's gateway: the WAF's per-IP rate rule
(evaluated first, as WAF is) and the stage's throttling (a token bucket), with the deployed template's values.

Pure but for the clock, which is injected (tests advance it instead of sleeping). Not emulated: AWS's managed
rule groups, and WAF's ~10 s evaluation lag (the rate is counted exactly, over a sliding window of seconds).
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from webhookctl.tryit import apigw

Clock = Callable[[], float]
# API Gateway's account-level throttle in most regions: what a stage without its own settings gets.
ACCOUNT_RATE, ACCOUNT_BURST = 10_000.0, 5_000
DEFAULT_WINDOW_S = 300  # a rate-based statement without EvaluationWindowSec
LOOPBACK = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True)
class EdgeLimits:
    """The stage's throttle and the WAF's rate rule (None: the ACL has none), and where they were read."""

    rate_per_s: float
    burst: int
    waf_limit: int | None
    waf_window_s: int
    trusted: tuple[str, ...]
    managed_rule_groups: tuple[str, ...]
    source: str

    def describe(self) -> str:
        """One line for the console: what the gateway enforces."""
        waf = (f"WAF {self.waf_limit} requests per {self.waf_window_s} s per source IP (trusted: "
               f"{', '.join(self.trusted) or 'none'})" if self.waf_limit is not None else "no WAF rate rule")
        return f"edge limits from {self.source}: stage {self.rate_per_s:g} requests/s, burst {self.burst}; {waf}"


# --- reading the values from the deployed template ------------------------------------------------


def limits_from_template(template: dict[str, Any], source: str = "the deployed template") -> EdgeLimits:
    """The stage's throttle and the WebACL's rate rule as the template declares them."""
    resources = template.get("Resources") or {}
    rate, burst = _stage_throttle(_of_type(resources, "AWS::ApiGateway::Stage"))
    acls = _of_type(resources, "AWS::WAFv2::WebACL")
    rules = [rule for acl in acls for rule in acl.get("Rules") or []]
    rate_rule = next((r["Statement"]["RateBasedStatement"] for r in rules
                      if "RateBasedStatement" in (r.get("Statement") or {}) and "Block" in (r.get("Action") or {})),
                     None)
    managed = tuple(r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in rules
                    if "ManagedRuleGroupStatement" in (r.get("Statement") or {}))
    if rate_rule is None:
        return EdgeLimits(rate, burst, None, DEFAULT_WINDOW_S, (), managed, source)
    return EdgeLimits(rate, burst, int(rate_rule["Limit"]), int(rate_rule.get("EvaluationWindowSec", DEFAULT_WINDOW_S)),
                      _exempt(rate_rule, resources), managed, source)


def _of_type(resources: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r.get("Properties") or {} for r in resources.values() if r.get("Type") == kind]


def _stage_throttle(stages: list[dict[str, Any]]) -> tuple[float, int]:
    """The stage-wide method setting (/* and *); API Gateway's account limits where the stage sets none."""
    settings = [m for stage in stages for m in stage.get("MethodSettings") or []]
    wide = next((m for m in settings if m.get("ResourcePath") == "/*" and m.get("HttpMethod") == "*"), {})
    return float(wide.get("ThrottlingRateLimit", ACCOUNT_RATE)), int(wide.get("ThrottlingBurstLimit", ACCOUNT_BURST))


def _exempt(rate_rule: dict[str, Any], resources: dict[str, Any]) -> tuple[str, ...]:
    """The CIDRs a `NOT (IP set)` scope-down leaves uncounted; any other scope-down counts every source."""
    reference = (((rate_rule.get("ScopeDownStatement") or {}).get("NotStatement") or {}).get("Statement") or {}
                 ).get("IPSetReferenceStatement") or {}
    arn = reference.get("Arn")
    logical = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
    ip_set = resources.get(logical) or {} if logical else {}
    return tuple(ip_set.get("Properties", {}).get("Addresses") or ())


def deployed_limits(cloudformation: Any, stack_name: str) -> EdgeLimits:
    """The limits of the stack as deployed (its template, from GetTemplate); the Settings defaults, saying
    so, when the emulator cannot return it."""
    try:
        body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
        return limits_from_template(body if isinstance(body, dict) else json.loads(body),
                                    f"the deployed template (GetTemplate {stack_name})")
    except Exception as error:  # noqa: BLE001 - any failure means the fallback, named with its cause
        return default_limits(f"the Settings defaults (GetTemplate failed: {type(error).__name__})")


def default_limits(source: str = "the Settings defaults") -> EdgeLimits:
    from webhookctl.templates.settings import Settings

    s = Settings()
    return EdgeLimits(float(s.api_rate_limit), s.api_burst_limit, s.waf_rate_limit, s.waf_window_seconds,
                      s.trusted_cidrs, (), source)


# --- enforcing them ---------------------------------------------------------------------------------


class TokenBucket:
    """API Gateway's throttle: BURST tokens, refilled at RATE per second; a request takes one or gets 429."""

    def __init__(self, rate_per_s: float, burst: int, clock: Clock) -> None:
        self.rate, self.capacity, self.clock = rate_per_s, burst, clock
        self.tokens, self.at = float(burst), clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


class RateRule:
    """WAF's rate-based rule per source IP: more than LIMIT requests within the last WINDOW seconds are
    blocked. Every request it counts is counted, blocked ones too, as WAF counts the rate of arrivals."""

    def __init__(self, limit: int, window_s: int, trusted: Iterable[str], clock: Clock) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self.trusted = [ipaddress.ip_network(cidr, strict=False) for cidr in trusted]
        self._seen: dict[str, deque[list[int]]] = {}  # ip -> [[second, count], ...], oldest first
        self._lock = threading.Lock()

    def exempt(self, source_ip: str) -> bool:
        try:
            address = ipaddress.ip_address(source_ip)
        except ValueError:
            return False
        return any(address.version == net.version and address in net for net in self.trusted)

    def allow(self, source_ip: str) -> bool:
        if self.exempt(source_ip):
            return True
        with self._lock:
            return self._count(source_ip, int(self.clock())) <= self.limit

    def _count(self, source_ip: str, second: int) -> int:
        """Counts this request and returns how many arrived from SOURCE_IP within the window."""
        seen = self._seen.setdefault(source_ip, deque())
        while seen and seen[0][0] <= second - self.window_s:
            seen.popleft()
        if seen and seen[-1][0] == second:
            seen[-1][1] += 1
        else:
            seen.append([second, 1])
        return sum(count for _, count in seen)


class Edge:
    """WAF first (a block never reaches the stage's throttle), then the stage: None admits the request."""

    def __init__(self, limits: EdgeLimits, clock: Clock = time.monotonic, also_trusted: Iterable[str] = ()) -> None:
        self.limits = limits
        self.waf = (RateRule(limits.waf_limit, limits.waf_window_s, [*limits.trusted, *also_trusted], clock)
                    if limits.waf_limit is not None else None)
        self.stage = TokenBucket(limits.rate_per_s, limits.burst, clock)

    def refuse(self, source_ip: str) -> apigw.Response | None:
        if self.waf is not None and not self.waf.allow(source_ip):
            return apigw.gateway_error(403, "Forbidden", error_type="ForbiddenException")
        if not self.stage.take():
            return apigw.gateway_error(429, "Too Many Requests", error_type="TooManyRequestsException")
        return None
