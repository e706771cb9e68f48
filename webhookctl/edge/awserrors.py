"""One line for an AWS SDK failure: which call, which resource, what next."""

from __future__ import annotations


def describe_aws_error(exc: BaseException) -> tuple[str, int]:
    """(message, exit code) for a botocore exception; 2 where the fix is in the user's setup."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    from webhookctl.edge.aws import NO_REGION

    if isinstance(exc, NoRegionError):
        return NO_REGION, 2
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ("no AWS credentials: run `aws configure` or `aws sso login`, pass --profile, "
                "or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"), 2
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach AWS: {exc}; check --region and the network (or AWS_ENDPOINT_URL)", 1
    if isinstance(exc, ClientError):
        return _client_error(exc), 1
    return f"AWS SDK error: {exc}", 1


def _client_error(exc: BaseException) -> str:
    response = exc.response  # type: ignore[attr-defined]
    error = response.get("Error", {})
    code, message = error.get("Code", "Error"), error.get("Message", "")
    operation = getattr(exc, "operation_name", "AWS call")
    if str(message).lstrip().startswith("<"):
        # An HTML page (an emulator without this API, a proxy): not an AWS answer, so say what it was.
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", code)
        return (f"{operation}: the endpoint answered HTTP {status}, not an AWS answer: check --region, and "
                "that the endpoint (AWS_ENDPOINT_URL or --local) offers this API")
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return (f"{operation}: access denied: {message or 'no message'}; the caller needs "
                f"permission for {operation} on the resource named above")
    if code in {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}:
        return f"{operation}: your AWS session has expired: log in again (e.g. `aws sso login`)"
    return f"{operation}: {code}: {message}"
