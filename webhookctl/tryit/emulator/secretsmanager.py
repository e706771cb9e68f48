"""Secrets Manager: AWS::SecretsManager::Secret in templates (moto's CloudFormation has no model for it)."""

from __future__ import annotations

from typing import Any

from webhookctl.tryit.emulator.cloudformation import register_model
from webhookctl.tryit.emulator.probe import Probe


def patch_secret_model() -> None:
    """moto skips the type, so the receiver's SIGNING_SECRETS_ARN variable and the SigningSecretArn output
    vanish: create a real secret; Ref = its ARN, as in AWS."""
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    class SecretModel(CloudFormationModel):
        def __init__(self, arn: str, name: str) -> None:
            self.arn, self.name = arn, name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Id"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str, **kwargs: Any) -> SecretModel:
            props = cloudformation_json.get("Properties", {})
            backend = secretsmanager_backends[account_id][region_name]
            backend.create_secret(name=resource_name, secret_string=props.get("SecretString", "{}"),
                                  secret_binary=None, description=props.get("Description"),
                                  tags=props.get("Tags"), kms_key_id=props.get("KmsKeyId"),
                                  client_request_token=None, replica_regions=[], force_overwrite=False)
            return cls(backend.secrets[resource_name].arn, resource_name)

        def delete(self, account_id: str, region_name: str) -> None:
            secretsmanager_backends[account_id][region_name].delete_secret(
                self.arn, recovery_window_in_days=None, force_delete_without_recovery=True)

    register_model(SecretModel)


def cloudformation_ignores_secrets(aws: Probe) -> bool:
    """A Ref to an AWS::SecretsManager::Secret resolves to nothing."""
    return aws.ignores("AWS::SecretsManager::Secret", {"Name": "probe", "SecretString": "{}"})
