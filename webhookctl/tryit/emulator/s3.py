"""S3: the standard TLS-only bucket policy (Deny unless aws:SecureTransport)."""

from __future__ import annotations

import json
from typing import Any

from webhookctl.tryit.emulator.probe import Probe


def patch_tls_only_bucket_policy() -> None:
    """moto ignores policy Conditions, so "Deny unless aws:SecureTransport" denies every request. Requests to the
    emulator stand in for TLS ones: drop exactly that statement before evaluating a bucket policy (everything
    else is evaluated as moto does)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for s in statements if not _denies_only_insecure_transport(s)]
        return IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def _denies_only_insecure_transport(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    value = (condition.get("Bool") or {}).get("aws:SecureTransport") if list(condition) == ["Bool"] else None
    values = value if isinstance(value, list) else [value]
    return statement.get("Effect") == "Deny" and [str(v).lower() for v in values] == ["false"]


def tls_only_policy_denies_everything(aws: Probe) -> bool:
    """With the TLS-only policy on the bucket, PutObject is refused (moto treats the condition as always true)."""
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="probe-bucket")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::probe-bucket", "arn:aws:s3:::probe-bucket/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    s3.put_bucket_policy(Bucket="probe-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    try:
        s3.put_object(Bucket="probe-bucket", Key="probe", Body=b"x")
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False
