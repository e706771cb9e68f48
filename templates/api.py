"""The REST API: POST /webhook/{provider} proxied to the receiver, throttled, traced, access-logged, and
reachable only from `provider_cidrs` when that is set."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import awacs.execute_api as execute_api
from awacs.aws import Allow, Condition, Deny, NotIpAddress, Policy, Principal, Statement
from troposphere import GetAtt, Sub, Template
from troposphere import apigateway as apigw
from troposphere import awslambda as fn
from troposphere import kms as tkms
from troposphere import logs as tlogs

from .common import checkov_skips
from .functions import Function
from .keys import Keys
from .provider_ranges import source_cidrs
from .settings import Settings

STAGE_NAME = "live"
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTimeEpoch", "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath", "provider": "$context.path",
    "status": "$context.status", "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency", "latency": "$context.responseLatency",
    "wafStatus": "$context.waf.status", "xrayTraceId": "$context.xrayTraceId",
}, sort_keys=True)


@dataclass(frozen=True)
class Api:
    rest_api: apigw.RestApi
    stage: apigw.Stage
    # The key the API's logs are encrypted with, and the logs of what stands in front of it (the WAF).
    log_key: tkms.Key


def add_api(t: Template, s: Settings, keys: Keys, receiver: Function) -> Api:
    policy = source_policy(source_cidrs(s.provider_cidrs))
    rest_api = t.add_resource(apigw.RestApi(
        "WebhookApi", Name=s.stack_name, Description="Payment provider webhooks",
        EndpointConfiguration=apigw.EndpointConfiguration(Types=["REGIONAL"]),
        **({"Policy": policy} if policy else {})))
    webhook = t.add_resource(apigw.Resource("WebhookResource", RestApiId=rest_api.ref(),
                                            ParentId=GetAtt(rest_api, "RootResourceId"), PathPart="webhook"))
    provider = t.add_resource(apigw.Resource("ProviderResource", RestApiId=rest_api.ref(),
                                             ParentId=webhook.ref(), PathPart="{provider}"))
    validator = t.add_resource(apigw.RequestValidator(
        "PathValidator", RestApiId=rest_api.ref(), Name=f"{s.stack_name}-path",
        ValidateRequestParameters=True, ValidateRequestBody=False))
    method = t.add_resource(apigw.Method(
        "PostWebhookMethod", RestApiId=rest_api.ref(), ResourceId=provider.ref(), HttpMethod="POST",
        AuthorizationType="NONE",  # providers authenticate by signature, verified in the receiver
        Metadata=checkov_skips(("CKV_AWS_59", "providers cannot sign requests for AWS: each signs its body, and "
                                              "the receiver verifies that signature")),
        RequestValidatorId=validator.ref(),
        RequestParameters={"method.request.path.provider": True},
        Integration=apigw.Integration(
            Type="AWS_PROXY", IntegrationHttpMethod="POST",
            Uri=Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                    "${Receiver}/invocations", Receiver=GetAtt(receiver.function, "Arn")))))
    t.add_resource(fn.Permission(
        "ApiInvokesReceiver", Action="lambda:InvokeFunction", FunctionName=receiver.function.ref(),
        Principal="apigateway.amazonaws.com",
        SourceArn=Sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/POST/webhook/*",
                      Api=rest_api.ref())))
    # CloudFormation never redeploys an unchanged Deployment, so a changed method or resource policy would
    # not reach the stage: the logical id carries a digest of what the deployment serves (Metadata is not
    # served), and changes with it.
    served = json.dumps([*({k: v for k, v in r.to_dict().items() if k != "Metadata"}
                           for r in (webhook, provider, validator, method)), *([policy] if policy else [])],
                        sort_keys=True)
    deployment = t.add_resource(apigw.Deployment(
        f"ApiDeployment{hashlib.sha256(served.encode()).hexdigest()[:10]}", RestApiId=rest_api.ref(),
        Description="POST /webhook/{provider}", DependsOn=[method.title]))
    access_logs = t.add_resource(tlogs.LogGroup(
        "ApiAccessLogGroup", LogGroupName=f"/aws/apigateway/{s.stack_name}-access",
        RetentionInDays=s.log_retention_days, KmsKeyId=GetAtt(keys.key, "Arn"),
        DeletionPolicy="Delete", UpdateReplacePolicy="Delete"))
    stage = t.add_resource(apigw.Stage(
        "ApiStage", RestApiId=rest_api.ref(), DeploymentId=deployment.ref(), StageName=STAGE_NAME,
        TracingEnabled=True,
        Metadata=checkov_skips(("CKV_AWS_120", "every POST is a distinct delivery: a cache would answer a retry "
                                               "without the receiver seeing it")),
        MethodSettings=[apigw.MethodSetting(
            ResourcePath="/*", HttpMethod="*", MetricsEnabled=True,
            # Execution logs with data tracing would copy request bodies (card data) into CloudWatch.
            DataTraceEnabled=False,
            ThrottlingRateLimit=s.api_rate_limit, ThrottlingBurstLimit=s.api_burst_limit)],
        # API Gateway wants the log group ARN without the ":*" that GetAtt Arn carries.
        AccessLogSetting=apigw.AccessLogSetting(
            DestinationArn=Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Logs}",
                               Logs=access_logs.ref()),
            Format=ACCESS_LOG_FORMAT)))
    return Api(rest_api, stage, keys.key)


def source_policy(cidrs: list[str]) -> dict | None:
    """A resource policy that lets only these source IPs invoke the API; None (no policy) for no CIDRs."""
    if not cidrs:
        return None
    anywhere = ["execute-api:/*"]  # API Gateway expands this to every method of this API
    document = Policy(Version="2012-10-17", Statement=[
        # With a resource policy attached, a request must be allowed by it too, even with no authorizer.
        Statement(Sid="Invoke", Effect=Allow, Principal=Principal("*"), Action=[execute_api.Invoke],
                  Resource=anywhere),
        # aws:SourceIp is the address that connected to API Gateway: the sender, as the endpoint is REGIONAL.
        Statement(Sid="DenyOtherSources", Effect=Deny, Principal=Principal("*"), Action=[execute_api.Invoke],
                  Resource=anywhere, Condition=Condition(NotIpAddress({"aws:SourceIp": cidrs}))),
    ])
    return json.loads(document.to_json())  # troposphere types RestApi.Policy as a dict


def webhook_base_url(api: Api) -> Sub:
    """The URL a provider is given, minus its own name: .../live/webhook/ + stripe."""
    url = "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + STAGE_NAME + "/webhook/"
    return Sub(url, Api=api.rest_api.ref())
