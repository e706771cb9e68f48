"""A local AWS emulator (moto's server on 127.0.0.1) that deploys the real, unmodified stack template.

    with start_emulator() as emulator:          # port=0 picks a free port
        client = boto3.client("cloudformation", endpoint_url=emulator.url, region_name="us-east-1")
        ...
        emulator.reset()                          # wipe every service's state

moto runs in this process, so the patches listed below change the server it serves. Each fixes one gap
that stopped the real template from deploying, updating or running like AWS, and lives in the module of the
service it fixes, beside its canary: a probe that tests/emulator runs on unpatched moto and that fails the
day moto closes the gap, so the patch is deleted rather than carried. They apply once per process, on the
first `start_emulator()` (or an explicit `install_patches()`), and only change moto, never webhookctl or the
template. Measured gaps without a patch here are in ../shared/docs/moto-notes.md ("What must be tested
another way").

moto keeps its state per process: every emulator started in one process serves the same account, and
`reset()` on one empties them all.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

from webhookctl.tryit.emulator import (
    apigateway,
    awslambda,
    cloudformation,
    cloudwatch,
    dynamodb,
    dynamodbstreams,
    events,
    kms,
    logs,
    routing,
    s3,
    sdkdata,
    secretsmanager,
    sns,
    sqs,
    wafv2,
)
from webhookctl.tryit.emulator.patch import AccountPreset, Patch
from webhookctl.tryit.serving import stop_serving

__all__ = ["ACCOUNT_PRESETS", "PATCHES", "Emulator", "MotoMismatch", "install_patches", "patches_installed",
           "pinned_moto", "start_emulator"]

PATCHES: tuple[Patch, ...] = (
    # First: the others import moto's services, whose region lookups open botocore sessions.
    Patch("shared-sdk-data", sdkdata.patch_shared_sdk_data, sdkdata.each_session_parses_the_sdk_data,
          "shares the SDK's parsed data files between sessions", canary="structure"),
    # Next, before anything imports the moto modules they change the imports of.
    Patch("deferred-openapi-validator", apigateway.patch_deferred_openapi_validator,
          apigateway.apigateway_imports_the_openapi_validator,
          "imports openapi-spec-validator only when it validates a document", canary="structure"),
    Patch("deferred-services", cloudformation.patch_deferred_services,
          cloudformation.cloudformation_imports_unused_services,
          "imports only the services a template's resource types need", canary="structure"),
    # CloudFormation: stacks, updates and change sets as AWS runs them.
    Patch("updates-keep-resources", cloudformation.patch_updates_keep_resources,
          cloudformation.update_forgets_a_resource, "keeps a resource it has no update handler for"),
    Patch("change-set-diff", cloudformation.patch_change_set_diff, cloudformation.change_set_misses_changes,
          "lists parameter-only changes and a replaced layer's dependants in change sets"),
    Patch("create-change-set-order", cloudformation.patch_create_change_set_order,
          cloudformation.create_change_set_ignores_depends_on, "honours DependsOn when executing a CREATE change set"),
    Patch("change-set-execution", cloudformation.patch_change_set_execution,
          cloudformation.execution_leaves_the_stack_stale,
          "refreshes the stack after executing a change set and refuses a FAILED one"),
    Patch("identical-update-change-set", cloudformation.patch_identical_update,
          cloudformation.identical_change_set_is_refused, "makes an identical UPDATE change set FAILED, not an error"),
    Patch("create-change-set-on-existing-stack", cloudformation.patch_create_change_set_on_existing_stack,
          cloudformation.create_change_set_duplicates_a_stack, "refuses a CREATE change set for a live stack"),
    Patch("termination-protection", cloudformation.patch_termination_protection,
          cloudformation.termination_protection_is_missing, "implements termination protection"),
    # Resource types moto's CloudFormation skips (a Ref to them silently vanishes).
    Patch("secret-model", secretsmanager.patch_secret_model, secretsmanager.cloudformation_ignores_secrets,
          "creates AWS::SecretsManager::Secret from templates"),
    Patch("alarm-model", cloudwatch.patch_alarm_model, cloudwatch.cloudformation_ignores_alarms,
          "creates AWS::CloudWatch::Alarm from templates"),
    Patch("stage-model", apigateway.patch_stage_model, apigateway.cloudformation_ignores_stages,
          "creates AWS::ApiGateway::Stage from templates"),
    Patch("request-validator-model", apigateway.patch_request_validator_model,
          apigateway.cloudformation_ignores_request_validators,
          "creates AWS::ApiGateway::RequestValidator from templates"),
    Patch("queue-policy-model", sqs.patch_queue_policy_model, sqs.cloudformation_ignores_queue_policies,
          "resolves Refs to AWS::SQS::QueuePolicy"),
    Patch("topic-policy-model", sns.patch_topic_policy_model, sns.cloudformation_ignores_topic_policies,
          "resolves Refs to AWS::SNS::TopicPolicy"),
    Patch("ip-set-model", wafv2.patch_ip_set_model, wafv2.cloudformation_ignores_ip_sets,
          "resolves Refs to AWS::WAFv2::IPSet"),
    Patch("web-acl-model", wafv2.patch_web_acl_model, wafv2.cloudformation_ignores_web_acls,
          "resolves Refs to AWS::WAFv2::WebACL"),
    Patch("web-acl-association-model", wafv2.patch_web_acl_association_model,
          wafv2.cloudformation_ignores_web_acl_associations, "resolves Refs to AWS::WAFv2::WebACLAssociation"),
    Patch("logging-configuration-model", wafv2.patch_logging_configuration_model,
          wafv2.cloudformation_ignores_logging_configurations, "resolves Refs to AWS::WAFv2::LoggingConfiguration"),
    # Resources moto's CloudFormation creates, but not as AWS does.
    Patch("layer-version", awslambda.patch_layer_version, awslambda.layer_ref_is_not_its_arn,
          "resolves Ref(AWS::Lambda::LayerVersion) to the version ARN"),
    Patch("function-create", awslambda.patch_function_create, awslambda.function_create_drops_settings,
          "keeps a templated function's Architectures, TracingConfig and Layers"),
    Patch("deployment-ref", apigateway.patch_deployment_ref, apigateway.deployment_ref_is_not_its_id,
          "resolves Ref(AWS::ApiGateway::Deployment) to the deployment id"),
    Patch("event-bus-ref", events.patch_event_bus_ref, events.event_bus_ref_is_not_its_name,
          "resolves Ref(AWS::Events::EventBus) to the bus's name"),
    Patch("key-policy-object", kms.patch_key_policy_object, kms.describe_key_fails_after_a_policy_object,
          "describes a key whose template KeyPolicy is an object"),
    # Service APIs.
    Patch("account-settings", awslambda.patch_account_settings, awslambda.account_settings_are_missing,
          "answers Lambda's GetAccountSettings"),
    Patch("aws-managed-policies", apigateway.patch_aws_managed_policies, apigateway.aws_managed_policies_are_missing,
          "attaches AWS-managed policies such as AmazonAPIGatewayPushToCloudWatchLogs out of the box"),
    Patch("message-move-task", sqs.patch_message_move_task, sqs.move_task_is_missing,
          "implements SQS's message-move tasks"),
    Patch("json-filter-patterns", logs.patch_json_filter_patterns, logs.json_filter_matches_everything,
          "matches FilterLogEvents' JSON filter patterns"),
    Patch("embedded-metrics", logs.patch_embedded_metrics, logs.emf_lines_make_no_metrics,
          "turns embedded-metric-format log lines into CloudWatch metrics"),
    Patch("percentile-statistics", cloudwatch.patch_percentile_statistics,
          cloudwatch.get_metric_data_has_no_percentiles, "answers GetMetricData's percentile statistics (p50, p99)"),
    Patch("dimension-order", cloudwatch.patch_dimension_order, cloudwatch.dimension_order_matters,
          "matches a metric's dimensions in any order"),
    Patch("distinct-metric-listing", cloudwatch.patch_distinct_metric_listing,
          cloudwatch.metrics_are_listed_per_datapoint, "lists each metric once, not once per datapoint"),
    Patch("tls-only-bucket-policy", s3.patch_tls_only_bucket_policy, s3.tls_only_policy_denies_everything,
          "lets requests through a Deny-unless-aws:SecureTransport bucket policy"),
    Patch("disabled-stream-mapping", dynamodbstreams.patch_disabled_stream_mapping,
          dynamodbstreams.disabled_mapping_drains_the_stream,
          "leaves a stream's records alone while its Lambda mapping is disabled"),
    Patch("atomic-requests", dynamodb.patch_atomic_requests, dynamodb.dynamodb_has_no_lock,
          "holds a lock in its DynamoDB (check that it makes each request atomic)", canary="structure"),
    Patch("atomic-sqs-requests", sqs.patch_atomic_requests, sqs.delete_races_send,
          "deletes a message under the lock its send takes (check that each request is atomic)", canary="structure"),
    # Cost: same answers, at the depth and pace the sandbox runs at.
    Patch("json-templates", cloudformation.patch_json_templates_parse_as_json,
          cloudformation.json_templates_go_through_pure_python_yaml,
          "reads JSON template bodies without PyYAML's pure-Python loader", canary="structure"),
    Patch("fast-queue-scans", sqs.patch_fast_queue_scans, sqs.receive_slows_with_depth,
          "receives from a deep queue about as fast as from a shallow one", canary="timing"),
    Patch("cached-input-paths", events.patch_cached_input_paths, events.each_delivery_builds_jsonpath_parsers,
          "reuses the JSONPath parsers it fills an event target's input with", canary="structure"),
    Patch("cached-action-names", sdkdata.patch_cached_action_names, sdkdata.each_request_lists_the_response_methods,
          "finds a request's handler method without listing its class's members each time", canary="structure"),
    Patch("lazy-signing-keys", kms.patch_lazy_signing_keys, kms.symmetric_keys_get_an_rsa_key,
          "creates a symmetric key without generating an RSA key for it", canary="structure"),
    Patch("fast-expression-copies", dynamodb.patch_fast_expression_copies, dynamodb.update_expressions_are_deep_copied,
          "copies UpdateExpression trees without copy.deepcopy", canary="structure"),
    Patch("cached-condition-parses", dynamodb.patch_cached_condition_parses, dynamodb.each_request_parses_its_condition,
          "parses a ConditionExpression once for requests that repeat it", canary="structure"),
    Patch("fast-traversals", dynamodb.patch_fast_traversals, dynamodb.traversers_rebuild_their_maps,
          "builds each expression traverser's node-type map once", canary="structure"),
    Patch("cached-update-parses", dynamodb.patch_cached_update_parses, dynamodb.each_update_parses_its_expression,
          "parses an UpdateExpression once for requests that repeat it", canary="structure"),
    Patch("fast-get-records", dynamodbstreams.patch_fast_get_records, dynamodbstreams.get_records_is_slow,
          "serialises stream records about as fast as json.dumps", canary="timing"),
    Patch("lazy-url-builders", routing.patch_lazy_url_builders, routing.rules_compile_url_builders,
          "routes requests without werkzeug compiling a URL builder for every rule", canary="structure"),
)

# Settings of the account the emulator plays: a fresh AWS account lacks them too, so they are not moto gaps.
ACCOUNT_PRESETS: tuple[AccountPreset, ...] = (
    AccountPreset("apigateway-cloudwatch-logs-role", apigateway.preset_cloudwatch_logs_role),
)

_patched = False
_patch_lock = threading.Lock()


@dataclass
class Emulator:
    """A running emulator: point boto3 at `url` (or set AWS_ENDPOINT_URL to it)."""

    url: str
    _server: Any

    def reset(self) -> None:
        """Forget every resource in every service (a few ms): a clean account for the next test."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        stop_serving(self._server.stop, self._server.get_host_and_port())

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(port: int = 0) -> Emulator:
    """Start moto's server on 127.0.0.1 (never all interfaces); port 0 picks a free one."""
    from moto.server import ThreadedMotoServer

    install_patches()
    # The server's per-request access log, and its tracebacks for the APIs moto lacks (which reach the
    # client as HTTP 500 anyway), would drown the caller's own output.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return Emulator(url=f"http://{host}:{bound}", _server=server)


class MotoMismatch(RuntimeError):
    """The installed moto is not the release the patches were run against."""

    def __init__(self, installed: str, pinned: str) -> None:
        super().__init__(f"the sandbox's patches to moto are for moto {pinned}, and moto {installed} is installed: "
                         "pip install 'webhookctl[local]' installs the release they were tested with")
        self.installed, self.pinned = installed, pinned


def pinned_moto() -> str | None:
    """The moto release webhookctl's install pins (setup.cfg), or None when webhookctl runs uninstalled."""
    from importlib import metadata

    try:
        requirements = metadata.requires("webhookctl") or []
    except metadata.PackageNotFoundError:
        return None
    pins = (re.match(r"moto(\[[\w,]+\])?\s*==\s*([\w.]+)", line) for line in requirements)
    return next((pin[2] for pin in pins if pin), None)


def check_moto(installed: str | None = None) -> None:
    """Refuse a moto other than the pinned one: the patches reach into its internals, which change between
    patch releases (5.2.6 broke two), and a patch that half-applies would make a sandbox that lies."""
    from importlib import metadata

    pinned, installed = pinned_moto(), installed or metadata.version("moto")
    if pinned is not None and installed != pinned:
        raise MotoMismatch(installed, pinned)


def install_patches() -> None:
    """Apply every patch and account preset, once per process, to the pinned moto."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        check_moto()
        for change in (*PATCHES, *ACCOUNT_PRESETS):
            change.apply()
        _patched = True


def patches_installed() -> bool:
    """Whether this process's moto is the patched one (the canaries must run where it is not)."""
    return _patched
