"""The one object click hands every command: where AWS is, the clients once made, the clock, the terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from webhookctl.edge.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from webhookctl.edge.aws import AwsClients, AwsTarget


def stdin_is_terminal() -> bool:
    """Whether someone can be asked: confirmations need a terminal on stdin, otherwise --yes."""
    return sys.stdin is not None and sys.stdin.isatty()


@dataclass
class AppContext:
    """Region/profile arrive from option callbacks; clients are built on first use, once.

    Tests hand commands a prepared context (clients, a fake clock, a terminal or not) through CliRunner's
    `obj=`; nothing in webhookctl is swapped by patching module globals.
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    credentials: tuple[str, str] | None = None  # (access key id, secret): the sandbox's dummy pair
    debug: bool = False
    prepared_clients: AwsClients | None = None
    clock: Clock = SYSTEM_CLOCK
    is_terminal: Callable[[], bool] = stdin_is_terminal
    packaging: Any = None  # webhookctl.building.packaging.PackageConfig; None: the installed defaults
    _clients: AwsClients | None = field(default=None, repr=False)

    @property
    def target(self) -> AwsTarget:
        from webhookctl.edge.aws import AwsTarget

        return AwsTarget(self.region, self.profile, self.endpoint_url, self.credentials, self.debug)

    @property
    def clients(self) -> AwsClients:
        if self.prepared_clients is not None:
            return self.prepared_clients
        if self._clients is None:
            from webhookctl.edge.aws import AwsClients

            self._clients = AwsClients(self.target)
        return self._clients


pass_app = click.make_pass_decorator(AppContext, ensure=True)
