"""Runs every patch's canary against unpatched moto and prints {patch name: gap still there, or an error}.

    python -m webhookctl.tryit.emulator.canaries      # e.g. in a venv with a newer moto
    python -m webhookctl.tryit.emulator.canaries --patched   # the same probes on patched moto: all False

Run it in a fresh interpreter: the patches are process-wide, and a process that installed them would only
ever see its own fixes. Each probe gets its own in-process moto (`mock_aws`) and fake credentials, with
moto's default configuration, as the emulator serves it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterable
from typing import Any

from webhookctl.tryit.emulator.probe import REGION, Probe


def run(patches: Iterable[Any]) -> dict[str, bool | str]:
    """Each probe on a fresh in-process moto; an error is reported as one line, never raised."""
    from moto import mock_aws

    results: dict[str, bool | str] = {}
    for patch in patches:
        with mock_aws():
            try:
                results[patch.name] = bool(patch.gap(Probe()))
            except Exception as exc:  # one broken probe must not hide the others' answers
                first = (str(exc).splitlines() or [""])[0][:200]
                results[patch.name] = f"{type(exc).__name__}: {first}"
    return results


def hermetic_environment() -> None:
    """Fake credentials, no profile, config file or endpoint: a probe can only reach moto."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
                      AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                      AWS_EC2_METADATA_DISABLED="true")


def main(argv: list[str] = sys.argv[1:]) -> None:
    from webhookctl.tryit.emulator import PATCHES, install_patches, patches_installed

    patched = argv == ["--patched"]
    hermetic_environment()
    if patched:  # first, as the emulator installs them: some patches change what moto imports
        install_patches()
    # moto warns about every resource type it skips, which is what several probes look for, and its Lambda
    # prints its Docker attempts to stdout, which carries only the answer.
    warnings.simplefilter("ignore")
    with contextlib.redirect_stdout(sys.stderr):
        results = run(PATCHES)
    if patches_installed() != patched:  # a probe must never see the fixes it is meant to outgrow
        raise SystemExit("the patches were installed while the canaries ran")
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
