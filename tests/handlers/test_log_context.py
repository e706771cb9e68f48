"""One webhook can be followed across the functions: every line names the invocation (Lambda request id),
the X-Ray trace API Gateway started (passed to the processor through SQS), and the webhook."""

from __future__ import annotations

import json
from types import SimpleNamespace

import processor
import receiver

from .conftest import log_lines, stream_records
from .test_receiver import sample_event

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in log_lines(capsys.readouterr().out)]


def test_the_trace_and_the_webhook_reach_every_line_of_every_function(aws, capsys):
    import audit

    # GIVEN a delivery through API Gateway, which adds the trace header
    event = sample_event("stripe")
    event["headers"]["X-Amzn-Trace-Id"] = TRACE
    # WHEN the receiver, then the processor, then the audit function run
    receiver.handler(event, SimpleNamespace(aws_request_id="req-receiver"))
    [accepted] = lines(capsys)
    records = aws.drain()
    assert records[0]["attributes"]["AWSTraceHeader"] == TRACE  # SQS carries the trace to the processor
    processor.handler({"Records": records}, SimpleNamespace(aws_request_id="req-processor"))
    processed = lines(capsys)
    audit.handler({"Records": stream_records(aws)}, SimpleNamespace(aws_request_id="req-audit"))
    audited = [line for line in lines(capsys) if line["timestamp"] == "event"]
    # THEN each line names its invocation, and the receiver's and processor's name the trace and the webhook
    webhook = accepted["webhookId"]
    assert (accepted["requestId"], accepted["traceId"]) == ("req-receiver", TRACE)
    assert [(p["requestId"], p["traceId"], p["webhookId"]) for p in processed] == [("req-processor", TRACE, webhook)]
    assert {(a["requestId"], a["webhookId"]) for a in audited} == {("req-audit", webhook)}
