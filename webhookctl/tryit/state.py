"""Where a running sandbox can be found by other commands (`webhookctl --local ...`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from webhookctl.edge.errors import UsageError

STATE_DIR_ENV = "WEBHOOKCTL_STATE_DIR"
# The embedded emulator accepts any credentials; botocore still wants some to sign with.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "webhookctl-local", "AWS_SECRET_ACCESS_KEY": "webhookctl-local"}


@dataclass(frozen=True)
class LocalState:
    """What `local up` publishes while it runs."""

    endpoint_url: str  # the emulator: AWS_ENDPOINT_URL for every other command
    webhook_url: str  # the sandbox gateway: POST {webhook_url}{provider}
    suffix: str
    region: str
    pid: int


def state_file(state_dir: str | os.PathLike | None = None) -> Path:
    directory = state_dir or os.environ.get(STATE_DIR_ENV) or ".webhookctl"
    return Path(directory) / "local.json"


def write_state(state: LocalState, path: Path) -> None:
    """Written atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(state), indent=2) + "\n")
    partial.chmod(0o600)
    partial.replace(path)


def remove_state(path: Path, pid: int) -> None:
    """Removes the file only if this sandbox wrote it (another one may have started since)."""
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def read_state(path: Path | None = None) -> LocalState:
    """The running sandbox's state, or a usage error saying how to start one."""
    path = path or state_file()
    try:
        return LocalState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"no local sandbox found ({path}): start one with `webhookctl local up` (a sandbox "
                         f"started with --state-dir D is found with {STATE_DIR_ENV}=D), or set "
                         "AWS_ENDPOINT_URL") from exc


def claim_state_dir(path: Path, alive: Callable[[int], bool]) -> None:
    """Refuse a state file a live sandbox still owns; make sure the directory is writable before start."""
    try:
        owner = read_state(path).pid
    except UsageError:
        owner = None
    if owner is not None and owner != os.getpid() and alive(owner):
        raise UsageError(f"a sandbox (pid {owner}) already runs with {path}: stop it with `webhookctl local "
                         "down`, or start this one with another --state-dir")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_suffix(".probe")
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write the sandbox's state in {path.parent}: {exc.strerror}; pass a "
                         "writable --state-dir") from exc


def running_sandbox(endpoint_url: str | None) -> LocalState | None:
    """The sandbox whose emulator ENDPOINT_URL is, when one is running there."""
    if not endpoint_url:
        return None
    try:
        state = read_state()
    except UsageError:
        return None
    return state if state.endpoint_url == endpoint_url else None


def sandbox_context(app: Any, state: LocalState | None = None) -> LocalState:
    """Point APP's clients at the running sandbox (endpoint, region, its dummy credentials); no
    environment variable of this process is touched."""
    state = state or read_state()
    app.endpoint_url, app.region, app.profile = state.endpoint_url, state.region, None
    app.credentials = (DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"], DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return state
