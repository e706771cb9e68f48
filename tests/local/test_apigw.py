"""HTTP <-> API Gateway REST proxy events, as API Gateway builds and reads them."""

from __future__ import annotations

import base64
import json

import pytest

from webhookctl.tryit import apigw


def request(body: bytes = b'{"id":"evt_1"}', target: str = "/webhook/stripe?x=1&x=2", method: str = "POST",
            headers=(("Content-Type", "application/json"), ("Stripe-Signature", "t=1,v1=ab"),
                     ("X-Dup", "a"), ("X-Dup", "b"), ("User-Agent", "Stripe/1.0"))) -> apigw.Request:
    return apigw.Request(method, target, list(headers), body, "127.0.0.1", "127.0.0.1:8765")


def test_proxy_event_has_the_rest_proxy_shape():
    event = apigw.proxy_event(request(), "stripe", request_id="rid", now_ms=1_700_000_000_123, api_id="api")
    context = event.pop("requestContext")
    assert event == {
        "resource": "/webhook/{provider}", "path": "/webhook/stripe", "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=ab", "X-Dup": "b",
                    "User-Agent": "Stripe/1.0"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Stripe-Signature": ["t=1,v1=ab"],
                              "X-Dup": ["a", "b"], "User-Agent": ["Stripe/1.0"]},
        "queryStringParameters": {"x": "2"}, "multiValueQueryStringParameters": {"x": ["1", "2"]},
        "pathParameters": {"provider": "stripe"}, "stageVariables": None,
        "body": '{"id":"evt_1"}', "isBase64Encoded": False,
    }
    assert (context["requestId"], context["stage"], context["identity"]["sourceIp"],
            context["requestTimeEpoch"], context["resourcePath"], context["path"], context["domainName"],
            context["requestTime"], context["identity"]["userAgent"]) == (
        "rid", "live", "127.0.0.1", 1_700_000_000_123, "/webhook/{provider}", "/live/webhook/stripe",
        "127.0.0.1:8765", "14/Nov/2023:22:13:20 +0000", "Stripe/1.0")


def test_a_body_that_is_not_utf8_arrives_base64_encoded():
    raw = b"\xff\xfe{not utf-8}"
    event = apigw.proxy_event(request(body=raw), "stripe", request_id="r", now_ms=0, api_id="a")
    assert (event["isBase64Encoded"], base64.b64decode(event["body"])) == (True, raw)


def test_an_empty_request_has_null_body_and_parameters():
    event = apigw.proxy_event(request(body=b"", target="/webhook/github", headers=()), "github",
                              request_id="r", now_ms=0, api_id="a")
    assert [event[k] for k in ("body", "headers", "multiValueHeaders", "queryStringParameters")] == [
        None, None, None, None]


@pytest.mark.parametrize(("method", "target", "provider"), [
    ("POST", "/webhook/adyen", "adyen"), ("POST", "/webhook/adyen/", "adyen"),
    ("GET", "/webhook/adyen", None), ("POST", "/webhook", None), ("POST", "/webhook/a/b", None),
    ("POST", "/other/adyen", None),
])
def test_only_post_webhook_provider_is_routed(method, target, provider):
    assert apigw.route(request(method=method, target=target)) == provider


def test_lambda_proxy_result_becomes_the_http_response():
    result = {"statusCode": 200, "headers": {"Content-Type": "application/json"},
              "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": '{"received":true}'}
    assert apigw.http_response(result) == apigw.Response(
        200, [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        b'{"received":true}')


def test_base64_result_body_is_decoded():
    result = {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    assert apigw.http_response(result).body == b"\x00\x01"


@pytest.mark.parametrize("result", [None, {"body": "x"}, {"statusCode": "200"}, {"statusCode": 200, "body": 5}])
def test_a_malformed_result_is_api_gateways_502(result):
    response = apigw.http_response(result)
    assert (response.status, json.loads(response.body)) == (502, {"message": "Internal server error"})
