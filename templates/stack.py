"""Builds the whole payment-webhook stack. Pure: no boto3, no I/O; everything comes from Settings.

Resources are added in dependency order, and that order is kept in the rendered template.
"""

from __future__ import annotations

from troposphere import Export, GetAtt, Output, Parameter, Sub, Template
from troposphere.cloudwatch import Dashboard

from webhookctl.handlers.webhook_common.contract import stack as out

from .alarms import Alarms, add_alarms
from .api import Api, add_api, webhook_base_url
from .bus import Bus, add_bus
from .dashboard import add_dashboard
from .functions import Artifacts, Functions, add_functions
from .keys import Keys, add_keys
from .metadata import metadata_entry
from .queues import Queues, add_queues
from .settings import Settings
from .storage import Storage, add_storage
from .waf import add_waf


def build_template(s: Settings) -> Template:
    t = Template(Description=f"Payment webhook pipeline {s.stack_name} (rendered by webhookctl)")
    t.set_version("2010-09-09")
    t.set_metadata(metadata_entry(s))  # what diff and deploy compare a run's settings with
    artifacts = _add_parameters(t)
    keys = add_keys(t, s)
    storage = add_storage(t, s, keys)
    queues = add_queues(t, s, keys)
    bus = add_bus(t, s, keys)
    functions = add_functions(t, s, artifacts, keys, storage, queues, bus)
    api = add_api(t, s, keys, functions.receiver)
    add_waf(t, s, api)
    alarms = add_alarms(t, s, keys, queues, functions, api)
    dashboard = add_dashboard(t, s, alarms)
    _add_outputs(t, keys, storage, queues, bus, functions, api, alarms, dashboard)
    return t


def _add_parameters(t: Template) -> Artifacts:
    return Artifacts(
        bucket=t.add_parameter(Parameter(out.ARTIFACT_BUCKET, Type="String", MinLength=3,
                                         Description="S3 bucket holding the handler and layer zips")),
        handlers_key=t.add_parameter(Parameter(out.HANDLERS_KEY, Type="String", MinLength=1,
                                               Description="S3 key of handlers.zip (content-addressed)")),
        layer_key=t.add_parameter(Parameter(out.LAYER_KEY, Type="String", MinLength=1,
                                            Description="S3 key of layer.zip (content-addressed)")),
    )


def _add_outputs(t: Template, keys: Keys, storage: Storage, queues: Queues, bus: Bus, functions: Functions,
                 api: Api, alarms: Alarms, dashboard: Dashboard) -> None:
    values = {
        out.WEBHOOK_URL: webhook_base_url(api),
        out.TABLE_NAME: storage.table.ref(),
        out.TABLE_STREAM_ARN: GetAtt(storage.table, "StreamArn"),
        out.PROCESSING_QUEUE_URL: queues.processing.ref(),
        out.PROCESSING_QUEUE_ARN: GetAtt(queues.processing, "Arn"),
        out.DEAD_LETTER_QUEUE_URL: queues.dead_letter.ref(),
        out.DEAD_LETTER_QUEUE_ARN: GetAtt(queues.dead_letter, "Arn"),
        out.AUDIT_FAILURE_QUEUE_URL: queues.audit_failures.ref(),
        out.EVENT_BUS_NAME: bus.bus.ref(),
        out.EVENT_BUS_ARN: GetAtt(bus.bus, "Arn"),
        out.ALERT_TOPIC_ARN: alarms.topic.ref(),
        out.DASHBOARD: dashboard.ref(),
        out.SIGNING_SECRET_ARN: storage.secret.ref(),
        out.KEY_ARN: GetAtt(keys.key, "Arn"),
        out.RECEIVER_FUNCTION: functions.receiver.function.ref(),
        out.PROCESSOR_FUNCTION: functions.processor.function.ref(),
        out.AUDIT_FUNCTION: functions.audit.function.ref(),
        out.SWEEPER_FUNCTION: functions.sweeper.function.ref(),
        out.RECEIVER_LOG_GROUP: functions.receiver.log_group.ref(),
        out.PROCESSOR_LOG_GROUP: functions.processor.log_group.ref(),
        out.AUDIT_LOG_GROUP: functions.audit.log_group.ref(),
        out.SWEEPER_LOG_GROUP: functions.sweeper.log_group.ref(),
        # The alarm's own name property: the same value Ref would give, known without a lookup.
        **{key: alarm.AlarmName for key, alarm in alarms.by_output.items()},
    }
    for output, value in values.items():
        t.add_output(Output(output.key, Value=value, Export=Export(Sub(f"${{AWS::StackName}}-{output.key}"))))
