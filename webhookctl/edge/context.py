"""The one object click hands every command: where AWS is, and the clients once made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from webhookctl.edge.aws import AwsClients


@dataclass
class AppContext:
    """Region/profile arrive from option callbacks; clients are built on first use, once."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    debug: bool = False
    prepared_clients: AwsClients | None = None
    _clients: AwsClients | None = field(default=None, repr=False)

    @property
    def clients(self) -> AwsClients:
        if self.prepared_clients is not None:
            return self.prepared_clients
        if self._clients is None:
            from webhookctl.edge.aws import AwsClients, AwsTarget

            self._clients = AwsClients(AwsTarget(self.region, self.profile, self.endpoint_url))
        return self._clients


pass_app = click.make_pass_decorator(AppContext, ensure=True)
