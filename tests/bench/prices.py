"""AWS unit prices, us-east-1, on-demand, without free tiers, each with its unit, the date it was checked and
where. `price.each` is dollars per one unit (a request, a GB-second, a GB, a month).

Checked against the pages named in `source` (found with a documentation search) on CHECKED. Where sources
disagreed the comment says so, and the current AWS page wins. Free tiers (Lambda's 1M requests and 400,000
GB-s, SQS's 1M requests, KMS's 20,000 requests, X-Ray's 100,000 traces, CloudWatch's 5 GB of logs, ...) are
left out on purpose: a per-million figure is the marginal price of the next million webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKED = "2026-12-04"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    key: str
    usd: float  # dollars ...
    per: float  # ... per this many units
    unit: str
    source: str
    checked: str = CHECKED
    note: str = ""

    @property
    def each(self) -> float:
        return self.usd / self.per


MILLION = 1_000_000

PRICES: dict[str, Price] = {p.key: p for p in (
    # --- API Gateway, REST API: first 333M requests/month tier (then $2.80, $2.38, $1.51 per million).
    Price("apigw_rest_request", 3.50, MILLION, "REST API request",
          "https://aws.amazon.com/api-gateway/pricing/",
          note="tier 1 (first 333M/month); also in AWS's 'Best Practices for Designing Amazon API Gateway Private "
               "APIs' whitepaper, Table 4"),
    # --- WAF (same price in every region).
    Price("waf_web_acl_month", 5.00, 1, "web ACL-month", "https://aws.amazon.com/waf/pricing/",
          note="prorated hourly"),
    # Sources disagree on managed rule groups: awsnegotiations.com says a managed group 'counts as multiple rules';
    # c3x.dev and AWS's pricing page bill each rule or rule group added to a web ACL as one rule ($1/month), the
    # AWS managed IP-reputation and known-bad-inputs groups having no subscription fee. AWS's page wins: 1 each.
    Price("waf_rule_month", 1.00, 1, "rule (or managed rule group)-month", "https://aws.amazon.com/waf/pricing/",
          note="a managed rule group counts as one rule (see comment)"),
    Price("waf_request", 0.60, MILLION, "web request inspected", "https://aws.amazon.com/waf/pricing/"),
    # --- Lambda, arm64 (Graviton2): first 7.5B GB-s/month tier.
    Price("lambda_request", 0.20, MILLION, "invocation", "https://aws.amazon.com/lambda/pricing/"),
    Price("lambda_arm_gb_second", 0.0000133334, 1, "GB-second (arm64)", "https://aws.amazon.com/lambda/pricing/",
          note="first 7.5B GB-s/month; x86 is $0.0000166667; duration rounded up to 1 ms per invocation"),
    # --- DynamoDB on-demand, Standard table class. AWS cut on-demand throughput prices by 50% on 2024-11-01
    # (effective 2024-11-14): from $1.25 / $0.25 per million WRU / RRU to $0.625 / $0.125. Some pages still
    # carry the old figures (zeonedge.com: $1.25 and $0.25); the current AWS page and airbyte.com's 2025 summary
    # give the new ones, which are used.
    Price("ddb_write_request_unit", 0.625, MILLION, "write request unit (1 KB)",
          "https://aws.amazon.com/dynamodb/pricing/on-demand/",
          note="after the Nov 2024 cut (was $1.25); a GSI write is billed as WRUs too"),
    Price("ddb_read_request_unit", 0.125, MILLION, "read request unit (4 KB strongly consistent)",
          "https://aws.amazon.com/dynamodb/pricing/on-demand/", note="after the Nov 2024 cut (was $0.25)"),
    Price("ddb_stream_read_request_lambda", 0.0, MILLION, "stream GetRecords by a Lambda trigger",
          "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html",
          note="'not charged for GetRecords API calls invoked by AWS Lambda as part of DynamoDB triggers'"),
    Price("ddb_storage_gb_month", 0.25, 1, "GB-month stored (table and GSIs)",
          "https://aws.amazon.com/dynamodb/pricing/on-demand/",
          note="first 25 GB/month free; item size + 100 bytes of overhead per item and per index entry"),
    Price("ddb_pitr_gb_month", 0.20, 1, "GB-month of point-in-time recovery", "https://aws.amazon.com/dynamodb/pricing/on-demand/",
          note="continuous backups, on the table's size"),
    # --- SQS standard queue: first 100B requests/month tier; every 64 KB chunk of a payload is one request.
    # Lambda's event source mapping polls SQS in your account and its ReceiveMessage/DeleteMessageBatch calls are
    # billed as ordinary SQS requests, empty receives included (AWS Knowledge Center 'sqs-high-charges'); only
    # DynamoDB Streams (and Kinesis) reads by Lambda are free.
    Price("sqs_request", 0.40, MILLION, "SQS request (64 KB chunk)", "https://aws.amazon.com/sqs/pricing/",
          note="ESM polling is billed: https://aws.amazon.com/premiumsupport/knowledge-center/sqs-high-charges/"),
    # --- EventBridge: custom events on any bus, per 64 KB chunk of each PutEvents entry.
    Price("events_custom_event", 1.00, MILLION, "custom event published (64 KB chunk)",
          "https://aws.amazon.com/eventbridge/pricing/",
          note="rules and same-account delivery add nothing; cloudburn.io's 2026 summary agrees"),
    Price("events_archive_gb", 0.10, 1, "GB of events archived (processing)", "https://aws.amazon.com/eventbridge/pricing/"),
    Price("events_archive_gb_month", 0.023, 1, "GB-month archived (storage)", "https://aws.amazon.com/eventbridge/pricing/"),
    # --- KMS.
    Price("kms_key_month", 1.00, 1, "customer managed key-month", "https://aws.amazon.com/kms/pricing/",
          note="+$1/month per rotated backing key once automatic rotation has run (first two rotations)"),
    Price("kms_request", 0.03, 10_000, "KMS request (symmetric)", "https://aws.amazon.com/kms/pricing/"),
    # --- Secrets Manager.
    Price("secret_month", 0.40, 1, "secret-month", "https://aws.amazon.com/secrets-manager/pricing/"),
    Price("secrets_api_call", 0.05, 10_000, "Secrets Manager API call", "https://aws.amazon.com/secrets-manager/pricing/"),
    # --- CloudWatch.
    Price("logs_ingest_gb", 0.50, 1, "GB of logs ingested (Standard class)", "https://aws.amazon.com/cloudwatch/pricing/",
          note="also the first 10 TB tier of vended logs (WAF logs to CloudWatch Logs)"),
    Price("logs_storage_gb_month", 0.03, 1, "GB-month of logs archived", "https://aws.amazon.com/cloudwatch/pricing/",
          note="billed on compressed bytes; this model charges raw bytes (an upper bound)"),
    Price("cw_alarm_metric_month", 0.10, 1, "standard-resolution alarm metric-month", "https://aws.amazon.com/cloudwatch/pricing/",
          note="a metric-math alarm is billed per metric it reads"),
    Price("cw_dashboard_month", 3.00, 1, "dashboard-month", "https://aws.amazon.com/cloudwatch/pricing/",
          note="the first 3 dashboards of an account are free"),
    Price("cw_custom_metric_month", 0.30, 1, "custom metric-month (first 10,000)", "https://aws.amazon.com/cloudwatch/pricing/",
          note="each metric name x dimension combination; EMF lines create them"),
    # --- X-Ray.
    Price("xray_trace_recorded", 5.00, MILLION, "trace recorded", "https://aws.amazon.com/xray/pricing/"),
    Price("xray_trace_scanned", 0.50, MILLION, "trace retrieved or scanned", "https://aws.amazon.com/xray/pricing/"),
)}


def price(key: str) -> Price:
    return PRICES[key]
