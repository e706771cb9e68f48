"""The dependency layer, the three functions with their log groups and roles, and their event sources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from troposphere import GetAtt, Parameter, Ref, Template
from troposphere import awslambda as fn
from troposphere import events as tevents
from troposphere import logs as tlogs
from troposphere.validators import integer

from webhookctl.handlers.webhook_common.contract import environment as env
from webhookctl.handlers.webhook_common.contract import names

from .bus import Bus
from .common import checkov_skips, keep_on_delete
from .iam import (
    add_role,
    audit_statements,
    processor_statements,
    receiver_statements,
    runtime_statements,
    sweeper_statements,
)
from .keys import Keys
from .queues import Queues
from .settings import Settings
from .storage import Storage

RUNTIME = "python3.11"
ARCHITECTURE = "arm64"
# Why checkov's Lambda checks do not apply: CKV_AWS_117 (VPC), CKV_AWS_116 (DLQ), CKV_AWS_115 (concurrency).
NO_VPC = ("CKV_AWS_117", "calls only AWS service APIs, never a private network; a VPC would add NAT or "
          "endpoints and reach nothing more")
CHECKOV_SKIPS = {
    "receiver": (NO_VPC, ("CKV_AWS_116", "invoked synchronously by API Gateway; a Lambda DLQ catches only "
                                         "asynchronous invocations")),
    "processor": (NO_VPC, ("CKV_AWS_116", "SQS-triggered: failed messages go to the processing queue's redrive "
                                          "DLQ; a Lambda DLQ catches only asynchronous invocations")),
    "audit": (NO_VPC,
              ("CKV_AWS_116", "stream-triggered: failed batches go to the event source mapping's OnFailure queue"),
              ("CKV_AWS_115", "stream-triggered: one batch per shard at a time bounds its concurrency; a reserve "
                              "would only take from the account's pool")),
    "sweeper": (NO_VPC, ("CKV_AWS_116", "scheduled: a failed sweep is retried by EventBridge, and the next "
                                        "scheduled sweep redoes it anyway")),
}


class EventSourceScaling(fn.ScalingConfig):
    """EventSourceMapping.ScalingConfig: troposphere 4.11 lets a same-named type shadow this one."""

    props = {"MaximumConcurrency": (integer, False)}


@dataclass(frozen=True)
class Artifacts:
    """Template parameters naming the S3 objects `deploy` uploads (so render needs no AWS)."""

    bucket: Parameter
    handlers_key: Parameter
    layer_key: Parameter


@dataclass(frozen=True)
class Function:
    function: fn.Function
    log_group: tlogs.LogGroup


@dataclass(frozen=True)
class Functions:
    receiver: Function
    processor: Function
    audit: Function
    sweeper: Function


def add_functions(t: Template, s: Settings, artifacts: Artifacts, keys: Keys, storage: Storage,
                  queues: Queues, bus: Bus) -> Functions:
    layer = t.add_resource(fn.LayerVersion(
        "DependencyLayer",
        LayerName=f"{s.stack_name}-deps",
        Description="Third-party packages the handlers import (manylinux aarch64, CPython 3.11)",
        Content=fn.Content(S3Bucket=Ref(artifacts.bucket), S3Key=Ref(artifacts.layer_key)),
        CompatibleRuntimes=[RUNTIME],
        CompatibleArchitectures=[ARCHITECTURE],
    ))
    common = dict(s=s, t=t, artifacts=artifacts, keys=keys, storage=storage, queues=queues, bus=bus, layer=layer)
    values = _environment_values(s, storage, queues, bus)
    receiver = _function(**common, kind="receiver", statements=receiver_statements,
                         timeout=s.receiver_timeout, memory=s.receiver_memory,
                         concurrency=s.receiver_reserved_concurrency, values=values)
    processor = _function(**common, kind="processor", statements=processor_statements,
                          timeout=s.processor_timeout, memory=s.processor_memory,
                          concurrency=s.processor_reserved_concurrency, values=values)
    audit = _function(**common, kind="audit", statements=audit_statements, timeout=s.audit_timeout,
                      memory=s.audit_memory, concurrency=None, values=values)
    # One sweep at a time: two would only race to enqueue the same keys.
    sweeper = _function(**common, kind="sweeper", statements=sweeper_statements, timeout=s.sweeper_timeout,
                        memory=256, concurrency=1, values=values)
    _add_event_sources(t, s, storage, queues, processor, audit)
    _add_schedule(t, s, sweeper)
    return Functions(receiver, processor, audit, sweeper)


def _environment_values(s: Settings, storage: Storage, queues: Queues, bus: Bus) -> dict[str, object]:
    """Every contract variable's value in this stack: references, or settings rendered by their EnvVar."""
    return {
        env.TABLE_NAME.name: storage.table.ref(),
        env.QUEUE_URL.name: queues.processing.ref(),
        env.SIGNING_SECRETS_ARN.name: storage.secret.ref(),
        env.EVENT_TTL_DAYS.name: env.EVENT_TTL_DAYS.render(s.event_ttl_days),
        env.REPLAY_GUARD_DAYS.name: env.REPLAY_GUARD_DAYS.render(s.replay_guard_days),
        env.SECRETS_CACHE_SECONDS.name: env.SECRETS_CACHE_SECONDS.render(s.secrets_cache_seconds),
        env.STACK_NAME.name: env.STACK_NAME.render(s.stack_name),
        env.EVENT_BUS_NAME.name: bus.bus.ref(),
        env.PUBLISH_IGNORED.name: env.PUBLISH_IGNORED.render(s.publish_ignored),
        env.SWEEP_GRACE_SECONDS.name: env.SWEEP_GRACE_SECONDS.render(s.sweep_grace_seconds),
        env.LOG_LEVEL.name: env.LOG_LEVEL.render("INFO"),
    }


def _function(*, t: Template, s: Settings, kind: str, artifacts: Artifacts, keys: Keys, storage: Storage,
              queues: Queues, bus: Bus, layer: fn.LayerVersion, statements: Callable, timeout: int, memory: int,
              concurrency: int | None, values: dict[str, object]) -> Function:
    title = kind.capitalize()
    name = names.function_name(kind, s.suffix)
    # Owning the log group (instead of letting Lambda create it on first write) gives it a retention,
    # the stack's key, and a clean delete with the stack. The audit trail keeps its own retention (PCI DSS
    # 10.5.1: a year) and is the only log group retain_data keeps.
    audit = kind == "audit"
    log_group = t.add_resource(tlogs.LogGroup(
        f"{title}LogGroup", LogGroupName=names.function_log_group(kind, s.suffix),
        RetentionInDays=s.audit_log_retention_days if audit else s.log_retention_days,
        KmsKeyId=GetAtt(keys.key, "Arn"), **keep_on_delete(s.retain_data and audit)))
    role = add_role(t, f"{title}Role", s.name(f"{kind}-role"),
                    [*runtime_statements(log_group), *statements(storage, queues, keys, bus)])
    function = t.add_resource(fn.Function(
        f"{title}Function",
        Metadata=checkov_skips(*CHECKOV_SKIPS[kind]),
        FunctionName=name,
        Description=f"Payment webhooks: {kind} ({s.stack_name})",
        Runtime=RUNTIME,
        Architectures=[ARCHITECTURE],
        Handler=f"{kind}.handler",
        Code=fn.Code(S3Bucket=Ref(artifacts.bucket), S3Key=Ref(artifacts.handlers_key)),
        Layers=[layer.ref()],
        Role=GetAtt(role, "Arn"),
        Timeout=timeout,
        MemorySize=memory,
        TracingConfig=fn.TracingConfig(Mode="Active"),
        KmsKeyArn=GetAtt(keys.key, "Arn"),
        LoggingConfig=fn.LoggingConfig(LogGroup=log_group.ref()),
        # Each function gets exactly the variables the contract lists for it.
        Environment=fn.Environment(Variables={v.name: values[v.name] for v in env.FUNCTION_ENVIRONMENT[kind]}),
        **({"ReservedConcurrentExecutions": concurrency} if concurrency else {}),
    ))
    return Function(function, log_group)


def _add_event_sources(t: Template, s: Settings, storage: Storage, queues: Queues, processor: Function,
                       audit: Function) -> None:
    # Reserved concurrency caps the function, not SQS pollers: without MaximumConcurrency, throttled
    # batches return to the queue and burn receive counts until valid messages reach the DLQ.
    t.add_resource(fn.EventSourceMapping(
        "ProcessorQueueSource",
        FunctionName=processor.function.ref(),
        EventSourceArn=GetAtt(queues.processing, "Arn"),
        BatchSize=s.processor_batch_size,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig=EventSourceScaling(MaximumConcurrency=s.processor_max_concurrency),
    ))
    # A poison stream record would otherwise be retried until it expires (24 h), blocking its shard:
    # bisect, retry a bounded number of times, then hand the batch's coordinates to a queue.
    t.add_resource(fn.EventSourceMapping(
        "AuditStreamSource",
        FunctionName=audit.function.ref(),
        EventSourceArn=GetAtt(storage.table, "StreamArn"),
        StartingPosition="TRIM_HORIZON",
        BatchSize=s.audit_batch_size,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=s.audit_max_retry_attempts,
        MaximumRecordAgeInSeconds=s.audit_max_record_age,
        DestinationConfig=fn.DestinationConfig(
            OnFailure=fn.OnFailure(Destination=GetAtt(queues.audit_failures, "Arn"))),
    ))


def _add_schedule(t: Template, s: Settings, sweeper: Function) -> None:
    minutes = s.sweep_interval_minutes
    rule = t.add_resource(tevents.Rule(
        "SweeperSchedule", Description=f"Runs the sweeper of {s.stack_name}",
        ScheduleExpression=f"rate({minutes} minute{'s' if minutes > 1 else ''})", State="ENABLED",
        Targets=[tevents.Target(Id="sweeper", Arn=GetAtt(sweeper.function, "Arn"))]))
    t.add_resource(fn.Permission("SweeperSchedulePermission", FunctionName=sweeper.function.ref(),
                                 Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                                 SourceArn=GetAtt(rule, "Arn")))
