"""The managed bucket's name is guessable, so every request about it insists this account owns it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from click.testing import Result

from tests.conftest import ACCOUNT, emulator_app


def test_every_managed_bucket_request_names_the_expected_owner(clean_emulator: Any,
                                                               run: Callable[..., Result]) -> None:
    # GIVEN a deploy that creates the managed bucket and uploads both artifacts and nothing else
    app = emulator_app(clean_emulator)
    seen: list[tuple[str, str | None]] = []
    app.clients.s3.meta.events.register(
        "provide-client-params.s3.*",
        lambda params, model, **_: seen.append((model.name, params.get("ExpectedBucketOwner"))))
    # WHEN it runs
    result = run(app, "deploy", "--suffix", "owner", "--yes")
    # THEN every bucket and object request carried this account as the expected owner
    assert result.exit_code == 0, result.output
    checked = [(name, owner) for name, owner in seen if name in ("HeadBucket", "HeadObject", "PutObject")]
    assert {name for name, _ in checked} == {"HeadBucket", "HeadObject", "PutObject"}
    assert {owner for _, owner in checked} == {ACCOUNT}
