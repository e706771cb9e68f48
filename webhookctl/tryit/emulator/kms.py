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


# --- cost ----------------------------------------------------------------------------------------------

SYMMETRIC_SPECS = ("SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512")

def patch_lazy_signing_keys() -> None:
    """moto gives every key an RSA-2048 private key at creation, a symmetric one too (50-150 ms of prime search,
    a tenth of `local up`); only Sign, Verify and GetPublicKey read it, and AWS refuses those for symmetric keys.
    A symmetric key's is made the first time it is read, if ever."""
    from moto.kms import models

    make = models.generate_private_key

    class MadeWhenRead:
        """A private key that comes into being at its first use."""

        def __init__(self, key_spec: str) -> None:
            self._spec, self._key = key_spec, None

        def __getattr__(self, name: str) -> Any:
            if self._key is None:
                self._key = make(self._spec)
            return getattr(self._key, name)

    def generate_private_key(key_spec: str) -> Any:
        return MadeWhenRead(key_spec) if key_spec in SYMMETRIC_SPECS else make(key_spec)

    models.generate_private_key = generate_private_key


def symmetric_keys_get_an_rsa_key(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): creating a SYMMETRIC_DEFAULT key generates an RSA private key."""
    from unittest import mock

    from cryptography.hazmat.primitives.asymmetric import rsa

    with mock.patch.object(rsa, "generate_private_key", side_effect=rsa.generate_private_key) as generated:
        aws.client("kms").create_key(KeySpec="SYMMETRIC_DEFAULT")
    return generated.call_count > 0
