"""AWS clients, made once per command and handed to the services; the only place boto3 sessions are built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhookctl import __version__
from webhookctl.edge.errors import ConfigError

SERVICES = ("cloudformation", "s3", "sqs", "cloudwatch", "secretsmanager", "logs", "sts", "dynamodb",
            "apigateway")


@dataclass(frozen=True)
class AwsTarget:
    """Where commands point: boto3's standard chain decides whatever is left as None."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    credentials: tuple[str, str] | None = None  # explicit keys (the sandbox's), else boto3's chain


class AwsClients:
    """Lazily built, cached clients for one target; tests pass prepared clients instead."""

    def __init__(self, target: AwsTarget | None = None, **prepared: Any) -> None:
        self.target = target or AwsTarget()
        self._clients: dict[str, Any] = dict(prepared)
        self._session: Any = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._make(service)
        return self._clients[service]

    def __getattr__(self, name: str) -> Any:
        if name in SERVICES:
            return self.client(name)
        raise AttributeError(name)

    @property
    def region(self) -> str:
        return self.client("sts").meta.region_name

    def _new_session(self, boto3: Any) -> Any:
        if self.target.credentials is None:
            return boto3.Session(profile_name=self.target.profile, region_name=self.target.region)
        # Explicit keys (the sandbox's) stand alone: no AWS_PROFILE from the shell may redirect or break them.
        import botocore.session

        # (the profile variable with no environment names: AWS_PROFILE is not read)
        core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        access_key, secret_key = self.target.credentials
        return boto3.Session(botocore_session=core, region_name=self.target.region,
                             aws_access_key_id=access_key, aws_secret_access_key=secret_key)

    def _make(self, service: str) -> Any:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoRegionError, ProfileNotFound

        config = Config(retries={"mode": "standard", "max_attempts": 8},
                        user_agent_extra=f"webhookctl/{__version__}")
        try:
            if self._session is None:
                self._session = self._new_session(boto3)
            return self._session.client(service, config=config, endpoint_url=self.target.endpoint_url)
        except ProfileNotFound as exc:
            raise ConfigError(f"AWS profile {self.target.profile!r} not found: "
                              "check --profile or ~/.aws/config") from exc
        except NoRegionError as exc:
            raise ConfigError("no AWS region: pass --region, or set AWS_REGION "
                              "(or region= in your AWS profile)") from exc
