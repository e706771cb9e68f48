"""The artifact bucket: a managed default made safe on first use, and uploads skipped when content exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from webhookctl.edge.errors import UsageError, WebhookctlError

NONCURRENT_DAYS = 30


def managed_bucket_name(account: str, region: str) -> str:
    return f"webhookctl-artifacts-{account}-{region}"


def tls_only_policy(bucket: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def owned_by(owner: str | None) -> dict[str, str]:
    """Request arguments making S3 refuse a bucket that another account owns (its name is guessable)."""
    return {"ExpectedBucketOwner": owner} if owner else {}


HARDENED_TAG = {"Key": "webhookctl:hardened", "Value": "1"}


def managed_bucket_action(s3: Any, bucket: str, owner: str) -> str | None:
    """What the managed bucket needs: "create", "harden" (an earlier run stopped half-way), or None."""
    if not _bucket_exists(s3, bucket, owner):
        return "create"
    return None if _is_hardened(s3, bucket, owner) else "harden"


def prepare_managed_bucket(s3: Any, bucket: str, region: str, owner: str, action: str) -> None:
    """Create (if asked) and harden the managed bucket; every step is idempotent."""
    if action == "create":
        # us-east-1 is the one region that rejects an explicit LocationConstraint.
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **location)
    _harden(s3, bucket, owner)


def _is_hardened(s3: Any, bucket: str, owner: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        tags = s3.get_bucket_tagging(Bucket=bucket, ExpectedBucketOwner=owner)["TagSet"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchTagSet":
            return False
        raise
    return HARDENED_TAG in tags


def _harden(s3: Any, bucket: str, owner: str) -> None:
    """Every step is idempotent; the tag that marks the bucket done comes last."""
    s3.put_public_access_block(Bucket=bucket, ExpectedBucketOwner=owner, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    # SSE-S3 rather than a KMS key: CloudFormation and Lambda read the artifacts with no key grant.
    s3.put_bucket_encryption(Bucket=bucket, ExpectedBucketOwner=owner, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=owner, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, ExpectedBucketOwner=owner, LifecycleConfiguration={"Rules": [{
        "ID": "expire-old-artifact-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]})
    s3.put_bucket_policy(Bucket=bucket, ExpectedBucketOwner=owner, Policy=json.dumps(tls_only_policy(bucket)))
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [HARDENED_TAG]}, ExpectedBucketOwner=owner)


def require_bucket(s3: Any, bucket: str, region: str) -> None:
    """A bucket named with --bucket must exist, in the stack's region (Lambda reads code only from there)."""
    if not _bucket_exists(s3, bucket):
        raise UsageError(f"artifact bucket {bucket} does not exist: create it, or leave out --bucket to use "
                         "the managed webhookctl-artifacts-ACCOUNT-REGION bucket")
    # GetBucketLocation answers None for us-east-1 and "EU" for the oldest eu-west-1 buckets.
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    location = "eu-west-1" if location == "EU" else location
    if location != region:
        raise UsageError(f"artifact bucket {bucket} is in {location}, the stack in {region}: Lambda loads code "
                         f"only from a bucket in its own region; use a bucket in {region} or leave out --bucket")


def _bucket_exists(s3: Any, bucket: str, owner: str | None = None) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket, **owned_by(owner))
        return True
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False
        if code in ("403", "AccessDenied"):
            raise WebhookctlError(f"artifact bucket {bucket} exists but this account cannot use it (owned "
                                  "by another account, or no s3:ListBucket): pass --bucket NAME") from exc
        raise


def object_exists(s3: Any, bucket: str, key: str, owner: str | None = None) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key, **owned_by(owner))
        return True
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def upload_if_missing(s3: Any, bucket: str, key: str, path: Path, sha256: str,
                      content_type: str = "application/zip", owner: str | None = None) -> bool:
    """Upload unless the content-addressed key is already there; True when bytes were sent."""
    if object_exists(s3, bucket, key, owner):
        return False
    with path.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                      Metadata={"sha256": sha256}, **owned_by(owner))
    return True


def put_if_missing(s3: Any, bucket: str, key: str, data: bytes, content_type: str,
                   owner: str | None = None) -> bool:
    if object_exists(s3, bucket, key, owner):
        return False
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type, **owned_by(owner))
    return True


def delete_all_versions(s3: Any, bucket: str, key: str) -> int:
    """Every version and delete marker of one key (a versioned bucket keeps them otherwise)."""
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
    doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
              for v in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])] if v["Key"] == key]
    if doomed:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    return len(doomed)
