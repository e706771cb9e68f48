"""Square (subscriptions + SearchEvents) and Paddle (notification settings + events) through the fakes:
connect creates and rotates, reconcile finds what was deleted, backfills it to PROCESSED, and only once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ops.conftest import SUFFIX
from tests.providers.conftest import WEBHOOK_URL, Stage
from tests.providers.fakes import FakePaddle, FakeSquare, paddle_event, square_event
from webhookctl.handlers.webhook_common.providers import sign_request
from webhookctl.operate.provider_apis import PaddleApi, SquareApi

pytestmark = pytest.mark.slow
HOUR = 3600


def run(stage: Stage, command: str, provider: str, *args: str) -> Any:
    quiet = ("--no-test-event",) if command == "connect" else ()  # tested in test_test_events.py
    return stage.invoke(command, "--suffix", SUFFIX, "--provider", provider, *quiet, *args)


def secret_entry(stage: Stage, provider: str) -> Any:
    return json.loads(stage.pipeline.secretsmanager.get_secret_value(
        SecretId=stage.pipeline.outputs["SigningSecretArn"])["SecretString"])[provider]


def test_square_connect_stores_the_signature_key_with_the_notification_url(stage: Stage,
                                                                          fake_square: FakeSquare) -> None:
    result = run(stage, "connect", "square", "--yes")
    assert result.exit_code == 0, result.output
    (made,) = fake_square.subscriptions.values()
    assert made["notification_url"] == WEBHOOK_URL + "square"
    assert sorted(made["event_types"]) == sorted(SquareApi.default_events)
    assert secret_entry(stage, "square") == {"secrets": [made["signature_key"]],
                                             "notificationUrl": WEBHOOK_URL + "square"}
    first = made["signature_key"]
    rotated = run(stage, "connect", "square", "--yes", "--rotate")
    assert rotated.exit_code == 0, rotated.output
    assert list(fake_square.subscriptions.values()) == [made] and made["signature_key"] != first
    assert stage.secrets("square") == [made["signature_key"], first]


def test_paddle_connect_creates_then_rotates_by_a_new_destination(stage: Stage, fake_paddle: FakePaddle) -> None:
    assert run(stage, "connect", "paddle", "--yes").exit_code == 0
    (old,) = fake_paddle.settings.values()
    assert old["destination"] == WEBHOOK_URL + "paddle"
    assert sorted(e["name"] for e in old["subscribed_events"]) == sorted(PaddleApi.default_events)
    assert run(stage, "connect", "paddle", "--yes").stderr.strip().endswith("nothing to change")
    result = run(stage, "connect", "paddle", "--yes", "--rotate")
    assert result.exit_code == 0, result.output
    (new,) = fake_paddle.settings.values()
    assert new["id"] != old["id"]
    assert stage.secrets("paddle") == [new["endpoint_secret_key"], old["endpoint_secret_key"]]


def test_square_reconcile_pages_finds_backfills_and_then_finds_nothing(stage: Stage, fake_square: FakeSquare) -> None:
    fake_square.page_cap = 3
    assert run(stage, "connect", "square", "--yes").exit_code == 0
    key, url = stage.secrets("square")[0], WEBHOOK_URL + "square"
    events = [square_event(i, stage.now - HOUR - 60 * i) for i in range(7)]
    fake_square.events += events
    for event in events:
        body, headers = sign_request("square", json.dumps(event).encode(), key, int(stage.now),
                                     {"notificationUrl": url})
        assert stage.deliver("square", body, headers)["statusCode"] == 200, headers
    assert stage.process()["batchItemFailures"] == []
    gone = [events[2]["event_id"], events[6]["event_id"]]
    for event_id in gone:
        stage.delete(f"square#{event_id}")
    result = run(stage, "reconcile", "square", "--backfill", "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert sorted(e["eventId"] for e in shown["missingHere"]) == sorted(gone)
    assert shown["backfill"]["stored"] == [f"square#{e}" for e in gone]
    assert len([r for r in fake_square.requests if r.path == "/v2/events"]) == 3
    assert stage.process()["batchItemFailures"] == []
    assert {stage.item(f"square#{e}")["status"]["S"] for e in gone} == {"PROCESSED"}
    again = json.loads(run(stage, "reconcile", "square", "--backfill", "--format", "json").stdout)
    assert again["totals"] == {"inBoth": 7, "missingHere": 0, "hereOnly": 0}


def test_paddle_reconcile_follows_next_links_and_backfills_once(stage: Stage, fake_paddle: FakePaddle) -> None:
    fake_paddle.page_cap = 2
    assert run(stage, "connect", "paddle", "--yes").exit_code == 0
    secret = stage.secrets("paddle")[0]
    events = [paddle_event(i, stage.now - 3 * HOUR + 60 * i) for i in range(5)]
    old = paddle_event(99, stage.now - 3 * 86400)  # outside the 24h window: not compared
    fake_paddle.events += [*events, old]
    for event in events:
        body, headers = sign_request("paddle", json.dumps(event).encode(), secret, int(stage.now))
        assert stage.deliver("paddle", body, headers)["statusCode"] == 200
    assert stage.process()["batchItemFailures"] == []
    stage.delete(f"paddle#{events[1]['event_id']}")
    fake_paddle.throttle(1)
    result = run(stage, "reconcile", "paddle", "--backfill", "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert [e["eventId"] for e in shown["missingHere"]] == [events[1]["event_id"]]
    assert shown["totals"] == {"inBoth": 4, "missingHere": 1, "hereOnly": 0}
    assert stage.sleeps == [7.0]
    assert len([r for r in fake_paddle.requests if r.path == "/events"]) == 4  # 6 events, 2 a page, + the 429
    assert stage.process()["batchItemFailures"] == []
    assert stage.item(f"paddle#{events[1]['event_id']}")["status"]["S"] == "PROCESSED"
    again = json.loads(run(stage, "reconcile", "paddle", "--backfill", "--format", "json").stdout)
    assert again["totals"]["missingHere"] == 0 and again["backfill"]["stored"] == []


@pytest.mark.parametrize(("provider", "days"), [("square", 28), ("paddle", 90)])
def test_windows_longer_than_the_provider_keeps_are_refused(stage: Stage, fake_square: FakeSquare,
                                                            fake_paddle: FakePaddle, provider: str, days: int) -> None:
    result = run(stage, "reconcile", provider, "--since", f"{days + 1}d")
    assert result.exit_code == 2
    assert f"{provider} keeps events for {days} days" in result.stderr
