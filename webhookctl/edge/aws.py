"""AWS clients, made once per command and handed to the services; the only place boto3 sessions are built."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from webhookctl import __version__
from webhookctl.edge.errors import ConfigError

SERVICES = ("cloudformation", "s3", "sqs", "cloudwatch", "secretsmanager", "logs", "sts", "dynamodb",
            "apigateway", "events", "iam")
NO_REGION = ("no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION (or region= in your AWS "
             "profile)")


@dataclass(frozen=True)
class AwsTarget:
    """Where commands point: boto3's standard chain decides whatever is left as None."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    credentials: tuple[str, str] | None = None  # explicit keys (the sandbox's), else boto3's chain
    debug: bool = False  # log every request (operation, status, time), never its parameters


def region_from_environment(environ: Any = os.environ) -> str | None:
    """AWS_REGION, which every AWS SDK honours before AWS_DEFAULT_REGION and botocore alone ignores."""
    return environ.get("AWS_REGION") or None


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

    @property
    def aws_cli(self) -> str:
        """`aws --region R [--endpoint-url U]`: how a printed hint reaches the same place as this command."""
        endpoint = self.target.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        return f"aws --region {self.region}" + (f" --endpoint-url {endpoint}" if endpoint else "")

    def _new_session(self, boto3: Any) -> Any:
        region = self.target.region or region_from_environment()
        if self.target.credentials is None:
            return boto3.Session(profile_name=self.target.profile, region_name=region)
        # Explicit keys (the sandbox's) stand alone: no AWS_PROFILE from the shell may redirect or break them.
        import botocore.session

        # (the profile variable with no environment names: AWS_PROFILE is not read)
        core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        access_key, secret_key = self.target.credentials
        return boto3.Session(botocore_session=core, region_name=region,
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
            client = self._session.client(service, config=config, endpoint_url=self.target.endpoint_url)
        except ProfileNotFound as exc:
            profile = exc.kwargs.get("profile") or self.target.profile
            raise ConfigError(f"AWS profile {profile!r} not found: check --profile, AWS_PROFILE and "
                              "~/.aws/config") from exc
        except NoRegionError as exc:
            raise ConfigError(NO_REGION) from exc
        if self.target.debug:
            log_requests(client)
        return client


def log_requests(client: Any) -> None:
    """--debug: one stderr line per request (operation, HTTP status, time, request id), never parameters or
    bodies, which can hold signing secrets."""
    started: dict[int, float] = {}

    def before(context: dict, **kwargs: Any) -> None:
        started[id(context)] = time.perf_counter()

    def after(http_response: Any, parsed: dict, model: Any, context: dict, **kwargs: Any) -> None:
        elapsed = (time.perf_counter() - started.pop(id(context), time.perf_counter())) * 1000
        request_id = parsed.get("ResponseMetadata", {}).get("RequestId", "-")
        sys.stderr.write(f"debug: {client.meta.service_model.service_name}.{model.name} -> HTTP "
                         f"{getattr(http_response, 'status_code', '?')} in {elapsed:.0f} ms (request {request_id})\n")

    client.meta.events.register("before-call", before)
    client.meta.events.register("after-call", after)
