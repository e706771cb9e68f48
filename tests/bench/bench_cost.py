"""AWS calls per webhook and $ per million webhooks (us-east-1), measured through the in-process sandbox.

COUNT new webhooks (every provider and kind in turn, 8 senders), then DUPLICATES redeliveries and FORGED
tampered copies, then one scheduled sweep; every AWS call is recorded (tests/bench/awscalls.py) and split into
the handlers' own and the sandbox's (what Lambda and CloudWatch do on AWS). Prices: tests/bench/prices.py.
What is measured and what is modelled: tests/bench/cost.py.
"""

from __future__ import annotations

from tests.bench import cost, sandboxrun
from tests.bench.prices import CHECKED, MILLION, PRICES, REGION

COUNT, DUPLICATES, FORGED = 200, 40, 20
ROLES = ("receiver", "processor", "audit", "sweeper")


def run(count: int = COUNT, duplicates: int = DUPLICATES, forged: int = FORGED) -> list[str]:
    measured = sandboxrun.measure(count, duplicates, forged)
    usage = {name: cost.measure_phase(phase, measured) for name, phase in measured.phases.items()}
    lines = [f"{count} new webhooks ({', '.join(sandboxrun.PROVIDERS)}; 4 kinds), {duplicates} redeliveries, "
             f"{forged} forged signatures, 1 sweep, through `local up`'s sandbox in-process"]
    lines += calls_table(usage)
    lines += sandbox_table(usage["new"])
    lines += dollars_table(usage, measured)
    return lines


def calls_table(usage: dict[str, cost.Usage]) -> list[str]:
    phases = [p for p in ("new", "duplicate", "forged") if p in usage]
    rows = sorted({key for p in phases for key in usage[p].calls if key[0] in ROLES},
                  key=lambda k: (ROLES.index(k[0]), k[1]))
    head = "".join(f"{p:>10}" for p in phases)
    out = ["", "calls per webhook (handlers' own AWS calls; per delivery of each kind)",
           f"  {'function':<10} {'operation':<62}{head}"]
    for role, name in rows:
        counts = "".join(f"{usage[p].calls.get((role, name), 0):>10.3f}" for p in phases)
        out.append(f"  {role:<10} {name:<62}" + counts)
    batches = usage["new"].detail["lambda"]
    if "processor" in batches:
        figures = batches["processor"]
        out.append(f"  (processor batches in this run: {figures['records'] / figures['invocations']:.1f} records each; "
                   "PutEvents and DeleteMessageBatch per webhook = 1 / records per batch)")
    out.append("  secretsmanager:GetSecretValue: 0 per webhook here (cached 300 s per container: a fixed cost below); "
               "KMS: no call by the handlers (SQS, DynamoDB, EventBridge call KMS for them, per data-key period)")
    return out


def sandbox_table(new: cost.Usage) -> list[str]:
    out = ["", "calls per webhook made by the sandbox (on AWS: by the Lambda service or CloudWatch, not by your code)"]
    rows = sorted(((cost.sandbox_role(_call(name)), name, n) for (origin, name), n in new.calls.items()
                   if origin == cost.SANDBOX), key=lambda r: (r[0][0], r[1]))
    for (who, billed), name, n in rows:
        out.append(f"  {name:<48}{n:>8.3f}  {who} [{billed}]")
    return out


class _call:  # noqa: N801 - a stand-in Call for classifying a label
    def __init__(self, label: str) -> None:
        self.name = label.split(" (")[0]
        self.service, self.operation = self.name.split(":")
        self.result = {"messages": 0 if "(empty)" in label else 1}


def dollars_table(usage: dict[str, cost.Usage], measured: sandboxrun.Run) -> list[str]:
    new = usage["new"]
    units = dict(new.units)
    units.update(cost.storage_units(measured.items, measured.indexes, new.webhooks, event_days=90, tombstone_days=400))
    # Logs are kept 30 days (audit 365): charged on raw bytes, an upper bound.
    logs = new.detail["log_bytes"]
    units["logs_storage_gb_month"] = (sum(b for r, b in logs.items() if r != "audit") * 1
                                      + logs.get("audit", 0) * 12) / 1e9
    units["events_archive_gb_month"] = units["events_archive_gb"] * 1  # 30-day archive
    dollars = cost.dollars_per_million(units)
    total = sum(dollars.values())
    a = cost.ASSUMPTIONS
    out = ["", f"$ per million webhooks, {REGION}, prices checked {CHECKED} (tests/bench/prices.py has each source)",
           f"  {'line item':<38} {'per webhook':>14} {'unit price':>22} {'$/million':>10}"]
    for key, value in sorted(dollars.items(), key=lambda kv: -kv[1]):
        p = PRICES[key]
        out.append(f"  {p.unit[:38]:<38} {units[key]:>14.6g} {f'${p.usd:g}/{_per(p.per)}':>22} {value:>10.2f}")
    out.append(f"  {'total (variable)':<38} {'':>14} {'':>22} {total:>10.2f}")
    for name in ("duplicate", "forged"):
        if name in usage:
            extra = sum(cost.dollars_per_million(usage[name].units).values())
            out.append(f"  a million {name} deliveries instead: ${extra:.2f}")
    lam = new.detail["lambda"]
    out.append("  Lambda (modelled): " + "; ".join(
        f"{r} {f['billed_ms']:.0f} ms billed x {f['memory_mb']} MB per invocation ({f['own_cpu_ms']:.2f} ms own CPU "
        f"measured x {a['full_vcpu_mb'] / f['memory_mb']:.1f} CPU share + {f['aws_ms']:.0f} ms assumed AWS "
        "round trips; "
        f"sandbox wall {f['sandbox_wall_ms']:.1f} ms)" for r, f in lam.items()))
    out.append("  logs (measured bytes/webhook): " + ", ".join(f"{r} {b:.0f}" for r, b in sorted(logs.items()))
               + f"; modelled: API access log {new.detail['access_log_bytes']} + WAF log {new.detail['waf_log_bytes']}")
    out.append(f"  X-Ray: {units['xray_trace_recorded']:.3f} traces/webhook at "
               f"{a['monthly_webhooks']:,} webhooks/month "
               "(default sampling 1/s + 5%); traces scanned: none by the stack (console use extra, $0.50/M)")
    out.append(f"  DynamoDB: {new.detail['wru']:.2f} WRU and {new.detail['rru']:.2f} RRU per webhook (table + GSIs, "
               "from item sizes before/after each write); stream reads by Lambda free")
    fixed = cost.fixed_monthly(measured, usage.get("sweep"))
    out += ["", "fixed monthly costs (not per webhook)"]
    for item, dollars_month, how in fixed:
        out.append(f"  {item:<36} ${dollars_month:>7.2f}/month  {how}")
    out.append(f"  {'total fixed':<36} ${sum(d for _, d, _ in fixed):>7.2f}/month")
    return out


def _per(n: float) -> str:
    return {1: "unit", 10_000: "10k", MILLION: "M"}.get(n, f"{n:g}")


if __name__ == "__main__":
    print("\n".join(run()))
