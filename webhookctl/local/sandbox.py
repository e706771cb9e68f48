"""`webhookctl local up`: the whole pipeline on this machine, with the real handler code and no AWS account.

    emulator (moto, 127.0.0.1) <- the stack, deployed by webhookctl.deploy exactly as to AWS
    gateway (HTTP, 127.0.0.1)  -> receiver.handler  -> table + processing queue (in the emulator)
    queue poller               -> processor.handler (batch size, partial failures, visibility, DLQ)
    stream poller              -> audit.handler     (retries, on-failure queue)
    alarm evaluator            -> the SQS-depth alarms' states (the emulator evaluates none)

The emulator runs the stack's event source mappings only as far as moto can (it never runs handler code);
the sandbox disables them and is the poller itself.
"""

from __future__ import annotations

import base64
import os
import secrets as random_secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webhookctl.local import apigw
from webhookctl.local.functions import (
    Capture,
    LocalFunction,
    LogShipper,
    handlers_root,
    load_handler,
    new_container,
    warm,
)
from webhookctl.local.gateway import Gateway
from webhookctl.local.pollers import DepthAlarm, QueuePoller, StreamPoller, run_loop
from webhookctl.local.state import DUMMY_CREDENTIALS
from webhookctl.templates import outputs as keys

Say = Callable[[str], None]


@dataclass(frozen=True)
class SandboxOptions:
    port: int = 0
    suffix: str = "local"
    region: str = "us-east-1"
    retry_delay_s: int = 1  # failed messages return after this, not the queue's visibility timeout
    idle_s: float = 0.05  # pollers wait this long after a round that found nothing
    stream_poll_s: float = 0.25  # Lambda polls a stream shard about 4 times a second
    alarm_every_s: float = 0.5
    queue_workers: int = 2  # concurrent processor batches (the mapping's MaximumConcurrency, locally)


# --- secrets -----------------------------------------------------------------------------------


def seed_secrets(webhook_url: str, token: Callable[[int], str] = random_secrets.token_hex) -> dict[str, Any]:
    """A fresh signing secret per provider, in the provider's own format (the receiver's document shape)."""
    return {
        "stripe": [f"whsec_{token(24)}"],
        "standard": ["whsec_" + base64.b64encode(bytes.fromhex(token(24))).decode()],
        "adyen": [token(32).upper()],  # Adyen HMAC keys are hex
        # Square signs the notification URL it was configured with: the sandbox's own.
        "square": {"secrets": [token(16)], "notificationUrl": f"{webhook_url}square"},
        "checkout": [token(32)],
        "razorpay": [token(16)],
        "paddle": [f"pdl_ntfset_{token(13)}_{token(16)}"],
        "github": [token(20)],
    }


def secrets_table(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(provider, (entry["secrets"] if isinstance(entry, dict) else entry)[0])
            for provider, entry in document.items()]


# --- the process environment the handlers see ---------------------------------------------------


class Environment:
    """Sets variables for the sandbox's lifetime and puts back what was there before."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, values: dict[str, str | None]) -> None:
        """None unsets the variable."""
        for name, value in values.items():
            self._saved.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


def aws_environment(region: str) -> dict[str, str | None]:
    """Dummy credentials and the sandbox's region; no endpoint override, so every client in this process
    targets AWS's own hostnames, which the in-process emulator intercepts (see InProcessAws)."""
    return {**DUMMY_CREDENTIALS, "AWS_SESSION_TOKEN": "webhookctl-local", "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": None, "AWS_PROFILE": None}


class InProcessAws:
    """moto's in-process interception, over the same state the emulator's HTTP server serves.

    The handlers, pollers and deploy in this process reach the emulator without HTTP (about 3x less CPU
    per call: the pipeline shares one interpreter), while other commands use the server's URL.
    """

    def __init__(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()

    def start(self) -> InProcessAws:
        self._mock.start(reset=False)  # keep what the server holds: it is the same account
        return self

    def stop(self) -> None:
        self._mock.stop(remove_data=False)


def streams_client(region: str) -> Any:
    """DynamoDB Streams addressed by its regional endpoint: botocore otherwise derives an account-based host
    from the StreamArn, which the in-process emulator does not recognise (moto-notes, Harness)."""
    import boto3

    return boto3.client("dynamodbstreams", region_name=region,
                        endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com")


# --- the running sandbox -------------------------------------------------------------------------


@dataclass
class Sandbox:
    """Everything `local up` started; stop() ends it all, in reverse order."""

    emulator: Any
    in_process: InProcessAws
    clients: Any
    outputs: dict[str, str]
    gateway: Gateway
    signing_secrets: dict[str, Any]
    functions: dict[str, LocalFunction]
    environment: Environment
    shipper: LogShipper
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    queue_pollers: list[QueuePoller] = field(default_factory=list)
    stream_poller: StreamPoller | None = None
    alarms: list[DepthAlarm] = field(default_factory=list)

    @property
    def endpoint_url(self) -> str:
        return self.emulator.url

    @property
    def webhook_url(self) -> str:
        return self.gateway.url

    def run(self, name: str, poll: Callable[[], int], idle_s: float, report: Say) -> None:
        thread = threading.Thread(target=run_loop, name=name, daemon=True,
                                  args=(poll, self.stop_event), kwargs={"idle_s": idle_s, "report": report,
                                                                         "name": name})
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        self.gateway.stop()
        for thread in self.threads:
            thread.join(timeout=5)
        self.shipper.stop()
        self.in_process.stop()
        self.emulator.stop()
        new_container()
        self.environment.restore()


def start_sandbox(options: SandboxOptions, say: Say, *, show: Callable[[str, str], None] | None = None,
                  capture: Capture | None = None) -> Sandbox:
    """Emulator, stack, secrets, handlers, pollers, gateway: ready to take webhooks when this returns.

    say() gets progress; show(kind, line) gets the per-webhook lines (None: nothing is shown).
    """
    from webhookctl.local.emulator import start_emulator

    capture = capture or Capture.install()
    # Bound first: a port in use fails in milliseconds, before anything else is started.
    gateway = Gateway(_not_ready, port=options.port)
    environment, in_process = Environment(), None
    try:
        emulator = start_emulator(port=0)
        speed_up_emulated_sqs()
        atomic_emulated_dynamodb()
    except BaseException:
        gateway.stop()
        raise
    try:
        environment.set(aws_environment(options.region))
        in_process = InProcessAws().start()
        return _assemble(options, emulator, in_process, gateway, environment, capture, say, show)
    except BaseException:
        gateway.stop()
        if in_process is not None:
            in_process.stop()
        emulator.stop()
        environment.restore()
        raise


def _not_ready(event: Any) -> Any:
    raise RuntimeError("the sandbox is still starting")


def _assemble(options: SandboxOptions, emulator: Any, in_process: InProcessAws, gateway: Gateway,
              environment: Environment, capture: Capture, say: Say,
              show: Callable[[str, str], None] | None) -> Sandbox:
    from webhookctl.aws import AwsClients, AwsTarget

    clients = AwsClients(AwsTarget(options.region), dynamodbstreams=streams_client(options.region))
    outputs = deploy_stack(clients, options.suffix, say)
    document = seed_secrets(gateway.url)
    clients.secretsmanager.put_secret_value(SecretId=outputs[keys.SIGNING_SECRET_ARN],
                                            SecretString=_json(document))
    shipper = LogShipper(clients.logs).start()
    tracker = Tracker(show)
    functions = load_functions(clients.client("lambda"), outputs, capture, environment,
                               [shipper.invoked, tracker.invoked])
    warm_up(functions, gateway)
    sandbox = Sandbox(emulator, in_process, clients, outputs, gateway, document, functions, environment,
                      shipper)
    gateway.invoke, gateway.on_exchange = functions["receiver"].invoke, tracker.exchange
    start_pollers(sandbox, options, tracker, say)
    gateway.start()
    return sandbox


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


class _DeployUi:
    """deploy's Ui: progress lines to the sandbox's console; never asks (the sandbox deploys with yes)."""

    interactive = False

    def __init__(self, say: Say) -> None:
        self.say_line = say

    def say(self, text: str) -> None:
        lines = text.splitlines()
        if lines and lines[0].startswith("ACTION"):  # the change-set table: its size is enough locally
            self.say_line(f"change set: {len(lines) - 1} resources")
        elif lines:
            self.say_line(lines[0])

    def confirm(self, question: str) -> bool:
        return True


def deploy_stack(clients: Any, suffix: str, say: Say) -> dict[str, str]:
    """The stack, deployed into the emulator through the same code path as `webhookctl deploy`."""
    from webhookctl.deploy import Deployer, DeployOptions
    from webhookctl.events import Timing

    timing = Timing(poll_seconds=0.05, change_set_poll_seconds=0.05, timeout_seconds=60)
    result = Deployer(clients, _DeployUi(say), timing).deploy(DeployOptions(suffix=suffix, yes=True))
    return result.outputs


def load_functions(lambda_client: Any, outputs: dict[str, str], capture: Capture, environment: Environment,
                   hooks: list[Callable[[LocalFunction, Any], None]]) -> dict[str, LocalFunction]:
    """The deployed functions' configuration (handler, env, timeout, memory) bound to the real code."""
    configs = {role: lambda_client.get_function_configuration(FunctionName=outputs[key])
               for role, key in (("receiver", keys.RECEIVER_FUNCTION), ("processor", keys.PROCESSOR_FUNCTION),
                                 ("audit", keys.AUDIT_FUNCTION))}
    # One process hosts all three functions, so their variables share os.environ (they agree where they meet).
    for config in configs.values():
        environment.set(config.get("Environment", {}).get("Variables", {}))
    new_container()
    root = handlers_root()

    def on_invoked(function: LocalFunction, invocation: Any) -> None:
        for hook in hooks:
            hook(function, invocation)

    return {role: LocalFunction(config["FunctionName"], load_handler(config["Handler"], root),
                                config["FunctionArn"], config.get("Timeout", 3), config.get("MemorySize", 128),
                                outputs[keys.LOG_GROUP_OUTPUTS[role]], capture, on_invoked)
            for role, config in configs.items()}


def warm_up(functions: dict[str, LocalFunction], gateway: Gateway) -> None:
    """Each handler makes its clients once in this thread (boto3 sessions are not thread-safe to set up):
    an unsigned stripe request (the receiver reads the secret, answers 401, writes nothing) and empty
    batches for the processor and the audit function."""
    request = apigw.Request("POST", "/webhook/stripe", [("Host", f"127.0.0.1:{gateway.port}")], b"{}",
                            "127.0.0.1", f"127.0.0.1:{gateway.port}")
    warm(functions["receiver"], apigw.proxy_event(request, "stripe", request_id="warm-up", now_ms=0,
                                                  api_id="local"))
    warm(functions["processor"], {"Records": []})
    warm(functions["audit"], {"Records": []})


def start_pollers(sandbox: Sandbox, options: SandboxOptions, tracker: Tracker, say: Say) -> None:
    """Take over the stack's event source mappings, then start polling as they would."""
    lambda_client, outputs, region = sandbox.clients.client("lambda"), sandbox.outputs, options.region
    mappings = take_over_mappings(lambda_client, sandbox.emulator, outputs)
    queue_mapping = mappings.get(outputs[keys.PROCESSING_QUEUE_ARN], {})
    for index in range(options.queue_workers):
        poller = QueuePoller(sandbox.clients.sqs, outputs[keys.PROCESSING_QUEUE_URL],
                             outputs[keys.PROCESSING_QUEUE_ARN], sandbox.functions["processor"].invoke, region,
                             batch_size=queue_mapping.get("BatchSize", 10), retry_delay_s=options.retry_delay_s)
        sandbox.queue_pollers.append(poller)
        sandbox.run(f"queue-poller-{index}", poller.poll_once, options.idle_s, say)
    stream_mapping = mappings.get(outputs[keys.TABLE_STREAM_ARN], {})
    failure_queue = outputs.get(keys.AUDIT_FAILURE_QUEUE_URL)
    sandbox.stream_poller = StreamPoller(
        sandbox.clients.client("dynamodbstreams"), outputs[keys.TABLE_STREAM_ARN],
        sandbox.functions["audit"].invoke, region, batch_size=stream_mapping.get("BatchSize", 100),
        max_retries=max(0, stream_mapping.get("MaximumRetryAttempts", 3)),
        on_failure=lambda info: send_failure(sandbox.clients.sqs, failure_queue, info),
        observe=tracker.records, starting_position=stream_mapping.get("StartingPosition", "TRIM_HORIZON")).open()
    stream_poller = sandbox.stream_poller

    def poll_stream() -> int:
        # A full batch means more is waiting: read on at once; otherwise wait for the next poll.
        found = stream_poller.poll_once()
        return found if found >= stream_poller.batch_size else 0

    sandbox.run("stream-poller", poll_stream, options.stream_poll_s, say)
    sandbox.alarms = depth_alarms(sandbox.clients, outputs)

    def evaluate_alarms() -> int:
        for alarm in sandbox.alarms:
            alarm.poll_once()
        return 0  # then wait alarm_every_s: CloudWatch evaluates on a period, not continuously

    sandbox.run("alarms", evaluate_alarms, options.alarm_every_s, say)


def send_failure(sqs: Any, queue_url: str | None, description: dict[str, Any]) -> None:
    """The stream mapping's on-failure destination: where exhausted audit batches are recorded."""
    if queue_url:
        sqs.send_message(QueueUrl=queue_url, MessageBody=_json(description))


def take_over_mappings(lambda_client: Any, emulator: Any, outputs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The stack's event source mappings by source ARN, each disabled: the sandbox polls in their place."""
    mappings: dict[str, dict[str, Any]] = {}
    for role in (keys.PROCESSOR_FUNCTION, keys.AUDIT_FUNCTION):
        for mapping in lambda_client.list_event_source_mappings(FunctionName=outputs[role])["EventSourceMappings"]:
            lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
            mappings[mapping["EventSourceArn"]] = mapping
    detach_stream_mappings(outputs[keys.TABLE_NAME])
    return mappings


def detach_stream_mappings(table_name: str) -> None:
    """moto pushes every stream record to a mapped function and then empties the stream, even when the
    mapping is disabled (moto-notes §3), so GetRecords would see nothing. The emulator runs in this process:
    unhook moto's stream delivery for the table (the mapping itself stays, disabled, for `status`)."""
    from moto.dynamodb.models import dynamodb_backends

    for account in list(dynamodb_backends):
        for region in list(dynamodb_backends[account]):
            table = dynamodb_backends[account][region].tables.get(table_name)
            if table is not None:
                table.lambda_event_source_mappings.clear()


def depth_alarms(clients: Any, outputs: dict[str, str]) -> list[DepthAlarm]:
    """Every stack alarm on an SQS queue's visible-message count, matched to the queue by its output URL."""
    names = [value for key, value in outputs.items() if key.endswith(keys.ALARM_SUFFIX)]
    queues = {url.rsplit("/", 1)[-1]: url for key, url in outputs.items() if key.endswith("QueueUrl")}
    alarms = []
    for alarm in clients.cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"] if names else []:
        dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        queue_url = queues.get(dimensions.get("QueueName", ""))
        if alarm.get("Namespace") == "AWS/SQS" and alarm.get("MetricName") == (
                "ApproximateNumberOfMessagesVisible") and queue_url:
            alarms.append(DepthAlarm(clients.sqs, clients.cloudwatch, queue_url, alarm["AlarmName"]))
    return alarms


# --- what the console shows per webhook ------------------------------------------------------------


class Tracker:
    """Turns gateway exchanges, invocations and stream records into the console's per-webhook lines."""

    def __init__(self, show: Callable[[str, str], None] | None, clock: Callable[[], float] = time.time) -> None:
        self.show, self.clock = show, clock
        self.received: dict[str, float] = {}
        self._lock = threading.Lock()

    def exchange(self, exchange: Any) -> None:
        answer = _json_object(exchange.body)
        webhook = answer.get("webhookId")
        if webhook and answer.get("duplicate") is False:
            with self._lock:
                self.received[webhook] = exchange.received_at - exchange.latency_ms / 1000
        if self.show:
            detail = "duplicate" if answer.get("duplicate") else answer.get("error") or answer.get("message") or ""
            self.show("http", f"POST {exchange.provider or '?'} -> {exchange.status} {webhook or ''} "
                              f"{detail} ({exchange.latency_ms:.1f} ms)".replace("  ", " "))

    def invoked(self, function: LocalFunction, invocation: Any) -> None:
        if not self.show:
            return
        for line in invocation.log_lines:
            if function.name.startswith("webhook-audit") or _is_problem(line):
                self.show("audit" if function.name.startswith("webhook-audit") else "error", line)

    def records(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            line = self.summary(record)
            if line and self.show:
                self.show("done", line)

    def summary(self, record: dict[str, Any]) -> str | None:
        """`stripe payment_intent.succeeded PROCESSED 84 ms` when a webhook reaches a final status."""
        new = record["dynamodb"].get("NewImage") or {}
        old = record["dynamodb"].get("OldImage") or {}
        status = new.get("status", {}).get("S")
        if status not in ("PROCESSED", "IGNORED") or old.get("status", {}).get("S") == status:
            return None
        webhook = new.get("webhookId", {}).get("S", "?")
        with self._lock:
            started = self.received.pop(webhook, None)
        latency = f"{(self.clock() - started) * 1000:.0f} ms" if started else "(redelivered)"
        provider, event_type = new.get("provider", {}).get("S", "?"), new.get("eventType", {}).get("S", "?")
        return f"{provider} {event_type} {status} {latency}"


def _json_object(data: bytes) -> dict[str, Any]:
    import json

    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _is_problem(line: str) -> bool:
    """Errors and tracebacks; the receiver's rejections already show on the gateway's line."""
    return '"level":"ERROR"' in line or not line.startswith("{")


def console(stream: Any = None) -> Callable[[str, str], None]:
    """show(kind, line) writing to the real terminal, one whole line at a time."""
    lock = threading.Lock()
    out = stream or sys.__stdout__
    marks = {"http": "->", "audit": "  audit", "done": "ok", "error": "!!"}

    def show(kind: str, line: str) -> None:
        with lock:
            out.write(f"{marks.get(kind, kind)} {line}\n")
            out.flush()

    return show


# --- emulator performance ----------------------------------------------------------------------------

_sqs_patched = False
_dynamodb_patched = False


def atomic_emulated_dynamodb() -> None:
    """DynamoDB applies each request atomically, and the receiver's and processor's exactly-once design
    rests on that (conditional writes). moto mutates items step by step with no lock, so with the handlers
    running in concurrent threads a reader can see half an update, or two conditional writers can both
    win. One lock around each DynamoDB request restores per-request atomicity. (Candidate for emulator.py.)"""
    global _dynamodb_patched
    if _dynamodb_patched:
        return
    from moto.dynamodb.responses import DynamoHandler

    original, lock = DynamoHandler.call_action, threading.RLock()

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action
    _dynamodb_patched = True


def speed_up_emulated_sqs() -> None:
    """moto's SQS is O(depth) per call with two datetime conversions per queued message, and a receive
    recomputes every queue attribute for each message it returns (O(depth²)): once a backlog forms, the
    pipeline stalls (moto-notes §8). Same answers, cheaper: the retention check reads the one attribute
    it needs, and visibility/delay are compared against one clock reading per call. (Candidate for
    emulator.py.)"""
    global _sqs_patched
    if _sqs_patched:
        return
    from moto.core.utils import unix_time, unix_time_millis
    from moto.sqs.models import Queue, SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    Queue.messages = property(messages)
    Queue.approximate_number_of_messages_delayed = property(delayed)
    Queue.approximate_number_of_messages_not_visible = property(not_visible)
    _sqs_patched = True
