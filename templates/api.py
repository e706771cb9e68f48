"""The REST API: POST /webhook/{provider} proxied to the receiver, throttled, traced, access-logged."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from troposphere import GetAtt, Sub, Template
from troposphere import apigateway as apigw
from troposphere import awslambda as fn
from troposphere import logs as tlogs

from .functions import Function
from .keys import Keys
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


def add_api(t: Template, s: Settings, keys: Keys, receiver: Function) -> Api:
    rest_api = t.add_resource(apigw.RestApi(
        "WebhookApi", Name=s.stack_name, Description="Payment provider webhooks",
        EndpointConfiguration=apigw.EndpointConfiguration(Types=["REGIONAL"])))
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
    # CloudFormation never redeploys an unchanged Deployment, so a changed method would not reach the
    # stage: the logical id carries a digest of what the deployment serves, and changes with it.
    served = json.dumps([r.to_dict() for r in (webhook, provider, validator, method)], sort_keys=True)
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
    return Api(rest_api, stage)


def webhook_base_url(api: Api) -> Sub:
    """The URL a provider is given, minus its own name: .../live/webhook/ + stripe."""
    url = "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + STAGE_NAME + "/webhook/"
    return Sub(url, Api=api.rest_api.ref())
