"""`webhookctl local up`: the whole pipeline on this machine, with the real handler code and no AWS account.

    emulator (moto, 127.0.0.1) <- the stack, deployed by webhookctl.stack.deploy exactly as to AWS
    gateway (HTTP, 127.0.0.1)  -> receiver.handler  -> table + processing queue (in the emulator)
    queue poller               -> processor.handler (batch size, partial failures, visibility, DLQ)
    stream poller              -> audit.handler     (retries, on-failure queue)
    alarm evaluator            -> the SQS-depth alarms' states (the emulator evaluates none)
    edge (in the gateway)      -> the WAF rate rule per source IP and the stage throttle, from the template

The emulator runs the stack's event source mappings only as far as moto can (it never runs handler code);
the sandbox disables them and is the poller itself.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import secrets as random_secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webhookctl.handlers.webhook_common.contract import names
from webhookctl.handlers.webhook_common.contract import secrets as secrets_document
from webhookctl.handlers.webhook_common.contract import stack as keys
from webhookctl.tryit import apigw
from webhookctl.tryit.console import Tracker, edge_notes
from webhookctl.tryit.edge_limits import LOOPBACK, Edge, EdgeLimits, deployed_limits
from webhookctl.tryit.emulator.inprocess import InProcessAws, streams_client
from webhookctl.tryit.functions import (
    Capture,
    LocalFunction,
    LogShipper,
    load_handler,
    new_container,
    warm,
)
from webhookctl.tryit.gateway import Gateway
from webhookctl.tryit.pollers import DepthAlarm, QueuePoller, StreamPoller, run_loop
from webhookctl.tryit.state import DUMMY_CREDENTIALS

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
    sweep_every_s: float = 30.0  # the stack sweeps every sweep_interval_minutes; locally, sooner
    settings: tuple[tuple[str, str], ...] = ()  # `--set KEY=VALUE` for the local stack, as deploy takes them
    edge_limits: bool = True  # the gateway applies the WAF rate rule and the stage throttle
    # Every local sender connects from loopback, and plays a provider: production lists the providers'
    # delivery ranges in trusted_cidrs, so the WAF rule does not count loopback unless this is False.
    loopback_trusted: bool = True
    edge_clock: Callable[[], float] = time.monotonic  # the edge's clock (tests advance a fake one)


# --- secrets -----------------------------------------------------------------------------------


def seed_secrets(webhook_url: str, token: Callable[[int], str] = random_secrets.token_hex
                 ) -> secrets_document.Document:
    """A fresh signing secret per provider, in the provider's own format."""
    entry = secrets_document.Entry
    return {
        "stripe": entry((f"whsec_{token(24)}",)),
        "standard": entry(("whsec_" + base64.b64encode(bytes.fromhex(token(24))).decode(),)),
        "adyen": entry((token(32).upper(),)),  # Adyen HMAC keys are hex
        # Square signs the notification URL it was configured with: the sandbox's own.
        "square": entry((token(16),), {"notificationUrl": f"{webhook_url}square"}),
        "checkout": entry((token(32),)),
        "razorpay": entry((token(16),)),
        "paddle": entry((f"pdl_ntfset_{token(13)}_{token(16)}",)),
        "github": entry((token(20),)),
    }


def secrets_table(document: secrets_document.Document) -> list[tuple[str, str]]:
    return [(provider, entry.secrets[0]) for provider, entry in document.items()]


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


# --- the running sandbox -------------------------------------------------------------------------


@dataclass
class Sandbox:
    """Everything `local up` started; stop() ends it all, in reverse order."""

    emulator: Any
    in_process: InProcessAws
    clients: Any
    outputs: dict[str, str]
    gateway: Gateway
    signing_secrets: secrets_document.Document
    functions: dict[str, LocalFunction]
    environment: Environment
    shipper: LogShipper
    capture: Capture
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    queue_pollers: list[QueuePoller] = field(default_factory=list)
    stream_poller: StreamPoller | None = None
    alarms: list[DepthAlarm] = field(default_factory=list)
    edge_limits: EdgeLimits | None = None

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
        self.capture.uninstall()
        gc.unfreeze()  # what the start froze (see _no_collections) is the collector's again


def start_sandbox(options: SandboxOptions, say: Say, *, show: Callable[[str, str], None] | None = None,
                  capture: Capture | None = None) -> Sandbox:
    """Emulator, stack, secrets, handlers, pollers, gateway: ready to take webhooks when this returns.

    say() gets progress; show(kind, line) gets the per-webhook lines (None: nothing is shown).
    """
    with _no_collections():
        return _start(options, say, show, capture)


@contextlib.contextmanager
def _no_collections() -> Any:
    """No cyclic garbage collection while the sandbox starts: nearly everything it makes (moto's and botocore's
    models, the deployed stack) lives as long as it does, and passes over it were a quarter of the start (three
    full ones, then 0.09 s for the first after re-enabling). A started sandbox's objects are frozen instead:
    the collector skips them, during the run too, until stop() thaws them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if enabled:
            gc.enable()


def _start(options: SandboxOptions, say: Say, show: Callable[[str, str], None] | None,
           capture: Capture | None) -> Sandbox:
    from webhookctl.tryit.emulator import start_emulator

    capture = capture or Capture.install()
    # Bound first: a port in use fails in milliseconds, before anything else is started.
    gateway = Gateway(_not_ready, port=options.port)
    environment, in_process = Environment(), None
    try:
        emulator = start_emulator(port=0)
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
    from webhookctl.edge.aws import AwsClients, AwsTarget

    clients = AwsClients(AwsTarget(options.region), dynamodbstreams=streams_client(options.region))
    outputs = deploy_stack(clients, options.suffix, say, dict(options.settings))
    limits = deployed_limits(clients.cloudformation, names.stack_name(options.suffix))
    for line in edge_notes(limits, enforced=options.edge_limits, loopback_trusted=options.loopback_trusted):
        say(line)
    document = seed_secrets(gateway.url)
    clients.secretsmanager.put_secret_value(SecretId=outputs[keys.SIGNING_SECRET_ARN.key],
                                            SecretString=secrets_document.dump(document))
    shipper = LogShipper(clients.logs).start()
    tracker = Tracker(show)
    functions = load_functions(clients.client("lambda"), outputs, capture, environment,
                               [shipper.invoked, tracker.invoked])
    warm_up(functions, gateway)
    sandbox = Sandbox(emulator, in_process, clients, outputs, gateway, document, functions, environment,
                      shipper, capture)
    sandbox.edge_limits, gateway.edge = limits, make_edge(options, limits)
    gateway.invoke, gateway.on_exchange = functions["receiver"].invoke, tracker.exchange
    start_pollers(sandbox, options, tracker, say)
    gateway.start()
    return sandbox


def _json(value: Any) -> str:
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


def make_edge(options: SandboxOptions, limits: EdgeLimits) -> Edge | None:
    """The gateway's edge for these limits (None when the sandbox does not apply them)."""
    if not options.edge_limits:
        return None
    return Edge(limits, options.edge_clock, also_trusted=LOOPBACK if options.loopback_trusted else ())


def deploy_stack(clients: Any, suffix: str, say: Say, settings: dict[str, str] | None = None) -> dict[str, str]:
    """The stack, deployed into the emulator through the same code path as `webhookctl deploy`."""
    from webhookctl.stack.deploy import Deployer, DeployOptions
    from webhookctl.stack.stack_events import Timing

    timing = Timing(poll_seconds=0.05, change_set_poll_seconds=0.05, timeout_seconds=60)
    result = Deployer(clients, _DeployUi(say), timing).deploy(
        DeployOptions(suffix=suffix, settings=settings or {}, yes=True))
    return result.outputs


def load_functions(lambda_client: Any, outputs: dict[str, str], capture: Capture, environment: Environment,
                   hooks: list[Callable[[LocalFunction, Any], None]]) -> dict[str, LocalFunction]:
    """The deployed functions' configuration (handler, env, timeout, memory) bound to the real code."""
    configs = {role: lambda_client.get_function_configuration(FunctionName=outputs[output.key])
               for role, output in keys.FUNCTION_OUTPUTS.items()}
    # One process hosts all three functions, so their variables share os.environ (they agree where they meet).
    for config in configs.values():
        environment.set(config.get("Environment", {}).get("Variables", {}))
    new_container()

    def on_invoked(function: LocalFunction, invocation: Any) -> None:
        for hook in hooks:
            hook(function, invocation)

    return {role: LocalFunction(config["FunctionName"], load_handler(config["Handler"]),
                                config["FunctionArn"], config.get("Timeout", 3), config.get("MemorySize", 128),
                                outputs[keys.LOG_GROUP_OUTPUTS[role].key], capture, on_invoked)
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
    """Take over the stack's event source mappings, then poll as they would, and evaluate the alarms."""
    mappings = take_over_mappings(sandbox.clients.client("lambda"), sandbox.outputs)
    start_queue_pollers(sandbox, options, mappings.get(sandbox.outputs[keys.PROCESSING_QUEUE_ARN.key], {}), say)
    start_stream_poller(sandbox, options, mappings.get(sandbox.outputs[keys.TABLE_STREAM_ARN.key], {}), tracker,
                        say)
    sandbox.alarms = depth_alarms(sandbox.clients, sandbox.outputs)

    def evaluate_alarms() -> int:
        for alarm in sandbox.alarms:
            alarm.poll_once()
        return 0  # then wait alarm_every_s: CloudWatch evaluates on a period, not continuously

    sandbox.run("alarms", evaluate_alarms, options.alarm_every_s, say)

    def sweep() -> int:
        sandbox.functions["sweeper"].invoke({"source": "aws.events", "detail-type": "Scheduled Event"})
        return 0  # then wait: EventBridge invokes it on its schedule

    sandbox.run("sweeper", sweep, options.sweep_every_s, say)


def start_queue_pollers(sandbox: Sandbox, options: SandboxOptions, mapping: dict[str, Any], say: Say) -> None:
    outputs = sandbox.outputs
    for index in range(options.queue_workers):
        poller = QueuePoller(sandbox.clients.sqs, outputs[keys.PROCESSING_QUEUE_URL.key],
                             outputs[keys.PROCESSING_QUEUE_ARN.key], sandbox.functions["processor"].invoke,
                             options.region, batch_size=mapping.get("BatchSize", 10),
                             retry_delay_s=options.retry_delay_s)
        sandbox.queue_pollers.append(poller)
        sandbox.run(f"queue-poller-{index}", poller.poll_once, options.idle_s, say)


def start_stream_poller(sandbox: Sandbox, options: SandboxOptions, mapping: dict[str, Any], tracker: Tracker,
                        say: Say) -> None:
    failure_queue = sandbox.outputs.get(keys.AUDIT_FAILURE_QUEUE_URL.key)
    poller = StreamPoller(
        sandbox.clients.client("dynamodbstreams"), sandbox.outputs[keys.TABLE_STREAM_ARN.key],
        sandbox.functions["audit"].invoke, options.region, batch_size=mapping.get("BatchSize", 100),
        max_retries=max(0, mapping.get("MaximumRetryAttempts", 3)),
        on_failure=lambda info: send_failure(sandbox.clients.sqs, failure_queue, info), observe=tracker.records,
        starting_position=mapping.get("StartingPosition", "TRIM_HORIZON")).open()
    sandbox.stream_poller = poller

    def poll_stream() -> int:
        # A full batch means more is waiting: read on at once; otherwise wait for the next poll.
        found = poller.poll_once()
        return found if found >= poller.batch_size else 0

    sandbox.run("stream-poller", poll_stream, options.stream_poll_s, say)


def send_failure(sqs: Any, queue_url: str | None, description: dict[str, Any]) -> None:
    """The stream mapping's on-failure destination: where exhausted audit batches are recorded."""
    if queue_url:
        sqs.send_message(QueueUrl=queue_url, MessageBody=_json(description))


def take_over_mappings(lambda_client: Any, outputs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The stack's event source mappings by source ARN, each disabled: the sandbox polls in their place."""
    mappings: dict[str, dict[str, Any]] = {}
    for function in (keys.PROCESSOR_FUNCTION, keys.AUDIT_FUNCTION):
        for mapping in lambda_client.list_event_source_mappings(
                FunctionName=outputs[function.key])["EventSourceMappings"]:
            lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
            mappings[mapping["EventSourceArn"]] = mapping
    return mappings


def depth_alarms(clients: Any, outputs: dict[str, str]) -> list[DepthAlarm]:
    """Every stack alarm on an SQS queue's visible-message count, matched to the queue by its output URL."""
    names = [outputs[o.key] for o in keys.with_role(keys.ALARM) if o.key in outputs]
    queues = {url.rsplit("/", 1)[-1]: url for o in keys.with_role(keys.QUEUE_URL) if (url := outputs.get(o.key))}
    alarms = []
    for alarm in clients.cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"] if names else []:
        dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        queue_url = queues.get(dimensions.get("QueueName", ""))
        if alarm.get("Namespace") == "AWS/SQS" and alarm.get("MetricName") == (
                "ApproximateNumberOfMessagesVisible") and queue_url:
            alarms.append(DepthAlarm(clients.sqs, clients.cloudwatch, queue_url, alarm["AlarmName"]))
    return alarms


