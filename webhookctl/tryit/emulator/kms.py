"""KMS: a key whose KeyPolicy a template gives as a JSON object (troposphere/awacs's normal output)."""

from __future__ import annotations

import json
from typing import Any

from webhookctl.tryit.emulator.probe import Probe


def patch_key_policy_object() -> None:
    """moto stores a KeyPolicy object as a dict and DescribeKey then fails; AWS stores the policy as a string,
    so the emulator does too."""
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        if isinstance(props.get("KeyPolicy"), dict):
            props = {**props, "KeyPolicy": json.dumps(props["KeyPolicy"])}
            cloudformation_json = {**cloudformation_json, "Properties": props}
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create)


def describe_key_fails_after_a_policy_object(aws: Probe) -> bool:
    """DescribeKey of a key whose template KeyPolicy is an object raises moto's TypeError (a server's 500)."""
    policy = {"Version": "2012-10-17", "Statement": []}
    key = aws.create_stack({"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy}}},
                           outputs=["Key"])["Key"]
    try:
        aws.client("kms").describe_key(KeyId=key)
    except TypeError:
        return True
    return False
