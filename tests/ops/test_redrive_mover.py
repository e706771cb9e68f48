"""The client-side mover under failure: whatever breaks, every message ends on the DLQ or the target."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tests.ops.conftest import contents, drain, fill, webhook_message
from webhookctl.operate.redrive import ClientMover, MoverOptions, RateLimiter, RedriveFilter, copy_entry

pytestmark = pytest.mark.slow

COUNT = 25


class Faulty:
    """A real (moto) SQS client whose named calls misbehave; everything else passes through."""

    def __init__(self, real, **faults):
        self.real, self.faults, self.calls = real, faults, Counter()

    def __getattr__(self, name):
        real_call = getattr(self.real, name)
        if name not in self.faults:
            return real_call

        def call(**kwargs):
            self.calls[name] += 1
            return self.faults[name](real_call, kwargs, self.calls[name])

        return call


def webhook_index(entry_or_message) -> int:
    body = entry_or_message.get("MessageBody") or entry_or_message["Body"]
    return int(json.loads(body)["webhookId"].removeprefix("evt_"))


def originals():
    return [webhook_message(i, ("stripe", "adyen")[i % 2]) for i in range(COUNT)]


def as_received(messages):
    return [{"Body": m["MessageBody"], "MessageAttributes": m["MessageAttributes"]} for m in messages]


def everything(pipeline):
    """(on target, on DLQ) after waiting out any visibility timeout the failure left behind."""
    return drain(pipeline.sqs, pipeline.queue_url), drain(pipeline.sqs, pipeline.dlq_url)


def run(pipeline, sqs, **options):
    options = {"wait_seconds": 0, "visibility_timeout": 1, **options}
    return ClientMover(sqs, pipeline.dlq_url, pipeline.queue_url, RedriveFilter(), MoverOptions(**options)).run()


def test_send_batch_with_some_entries_failed_keeps_those_on_the_dlq(pipeline):
    # GIVEN SQS refuses every entry whose webhook index is a multiple of 3 (9 of 25)
    def send(real, kwargs, n):
        keep = [e for e in kwargs["Entries"] if webhook_index(e) % 3]
        refused = [{"Id": e["Id"], "SenderFault": True, "Code": "InvalidParameterValue", "Message": "nope"}
                   for e in kwargs["Entries"] if not webhook_index(e) % 3]
        response = real(QueueUrl=kwargs["QueueUrl"], Entries=keep) if keep else {"Successful": []}
        return {**response, "Failed": refused}

    fill(pipeline.sqs, pipeline.dlq_url, originals())
    # WHEN redriving
    result = run(pipeline, Faulty(pipeline.sqs, send_message_batch=send))
    # THEN the refused ones are counted as failed and back on the DLQ at once, the rest moved: none lost
    assert (result.moved, result.failed, result.skipped, result.exit_code) == (16, 9, 0, 1)
    assert any("InvalidParameterValue" in e for e in result.errors)
    assert pipeline.counts(pipeline.dlq_url) == (9, 0, 0)
    target, dlq = everything(pipeline)
    assert sorted(webhook_index(m) for m in dlq) == list(range(0, COUNT, 3))
    assert contents(target + dlq) == contents(as_received(originals()))


def test_delete_batch_raising_leaves_duplicates_never_losses(pipeline):
    # GIVEN the second DeleteMessageBatch call fails outright (after its messages were sent)
    def delete(real, kwargs, n):
        if n == 2:
            raise ConnectionError("connection reset by peer")
        return real(**kwargs)

    fill(pipeline.sqs, pipeline.dlq_url, originals())
    result = run(pipeline, Faulty(pipeline.sqs, delete_message_batch=delete), workers=1)
    # THEN the run stops with that batch counted failed; after the visibility timeout every message exists
    assert result.exit_code == 1 and result.failed == 10 and result.moved == 10
    assert any("connection reset" in e for e in result.errors)
    time.sleep(1.2)
    target, dlq = everything(pipeline)
    assert set(contents(target + dlq)) == set(contents(as_received(originals())))
    assert len(target) == 20 and len(dlq) == 15  # 10 copied twice: on the target and still on the DLQ


def test_delete_entries_failed_are_counted_and_nothing_is_lost(pipeline):
    # GIVEN DeleteMessageBatch refuses the entry with Id "0" in every batch
    def delete(real, kwargs, n):
        response = real(QueueUrl=kwargs["QueueUrl"], Entries=[e for e in kwargs["Entries"] if e["Id"] != "0"])
        return {**response, "Failed": [{"Id": "0", "SenderFault": True, "Code": "ReceiptHandleIsInvalid",
                                        "Message": "expired"}]}

    fill(pipeline.sqs, pipeline.dlq_url, originals())
    result = run(pipeline, Faulty(pipeline.sqs, delete_message_batch=delete), workers=2)
    assert result.exit_code == 1 and result.moved + result.failed == COUNT and result.failed >= 3
    time.sleep(1.2)
    target, dlq = everything(pipeline)
    assert len(target) == COUNT and len(dlq) == result.failed
    assert contents(target) == contents(as_received(originals()))


def test_worker_crash_mid_run_loses_nothing(pipeline):
    # GIVEN the third receive crashes its worker (as a bug or a dropped connection would)
    def receive(real, kwargs, n):
        if n == 3:
            raise RuntimeError("worker crashed")
        return real(**kwargs)

    fill(pipeline.sqs, pipeline.dlq_url, originals())
    result = run(pipeline, Faulty(pipeline.sqs, receive_message=receive), workers=3)
    # THEN the other workers stop, the run reports the crash, and the messages are split, not lost
    assert result.exit_code == 1
    assert result.errors == ["a worker stopped: worker crashed"]
    time.sleep(1.2)
    target, dlq = everything(pipeline)
    assert len(target) == result.moved and len(target) + len(dlq) == COUNT
    assert contents(target + dlq) == contents(as_received(originals()))


def test_send_raising_releases_the_batch_at_once(pipeline):
    # GIVEN every send fails outright
    def send(real, kwargs, n):
        raise ConnectionError("no route to host")

    fill(pipeline.sqs, pipeline.dlq_url, originals())
    result = run(pipeline, Faulty(pipeline.sqs, send_message_batch=send), visibility_timeout=300, workers=1)
    # THEN nothing was deleted and the batch is visible again immediately (not after 300 s)
    assert (result.moved, result.failed, result.exit_code) == (0, 10, 1)
    assert pipeline.counts(pipeline.dlq_url) == (COUNT, 0, 0)
    assert pipeline.counts(pipeline.queue_url) == (0, 0, 0)


def test_copy_entry_keeps_body_attributes_and_fifo_ids_only():
    message = {"MessageId": "m", "ReceiptHandle": "r", "Body": '{"webhookId": "w"}', "MD5OfBody": "x",
               "Attributes": {"SentTimestamp": "1", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
               "MessageAttributes": {"provider": {"StringValue": "stripe", "DataType": "String",
                                                  "StringListValues": [], "BinaryListValues": []}}}
    assert copy_entry("3", message) == {
        "Id": "3", "MessageBody": '{"webhookId": "w"}', "MessageGroupId": "g", "MessageDeduplicationId": "d",
        "MessageAttributes": {"provider": {"StringValue": "stripe", "DataType": "String"}}}


def test_rate_limiter_books_one_schedule_for_all_callers():
    # GIVEN 20 messages/s and a clock that only moves when we sleep
    now, slept = [100.0], []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    limiter = RateLimiter(20, clock=lambda: now[0], sleep=sleep)
    # WHEN three batches of 10 are taken back to back
    for _ in range(3):
        limiter.acquire(10)
    # THEN the first goes at once and each next one waits half a second
    assert slept == [0.5, 0.5]


class SamplingSqs:
    """An SQS stand-in whose receive returns a random sample of the visible messages, as SQS may."""

    def __init__(self, providers, seed=7, delay=0.0):
        import random
        import threading

        self.delay = delay
        self.lock = threading.RLock()
        self.random = random.Random(seed)
        self.visible = {"dlq": [self._message(i, p) for i, p in enumerate(providers)], "target": []}
        self.in_flight = {}

    @staticmethod
    def _message(i, provider):
        return {"MessageId": f"m{i}", "Body": json.dumps({"webhookId": f"evt_{i:04d}"}),
                "MessageAttributes": {"provider": {"DataType": "String", "StringValue": provider}}}

    def receive_message(self, QueueUrl, MaxNumberOfMessages, **_):
        time.sleep(self.delay)
        with self.lock:
            queue = self.visible[QueueUrl]
            batch = self.random.sample(queue, min(MaxNumberOfMessages, len(queue)))
            for message in batch:
                queue.remove(message)
                message["ReceiptHandle"] = f"rh-{message['MessageId']}-{self.random.random()}"
                self.in_flight[message["ReceiptHandle"]] = message
            return {"Messages": [dict(m) for m in batch]}

    def send_message_batch(self, QueueUrl, Entries):
        with self.lock:
            self.visible[QueueUrl] += [{"MessageId": f"t{e['Id']}", "Body": e["MessageBody"]} for e in Entries]
            return {"Successful": [{"Id": e["Id"]} for e in Entries]}

    def delete_message_batch(self, QueueUrl, Entries):
        with self.lock:
            for entry in Entries:
                del self.in_flight[entry["ReceiptHandle"]]
            return {"Successful": [{"Id": e["Id"]} for e in Entries]}

    def change_message_visibility_batch(self, QueueUrl, Entries):
        with self.lock:
            for entry in Entries:
                self.visible[QueueUrl].append(self.in_flight.pop(entry["ReceiptHandle"]))
            return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_knowing_the_start_count_keeps_a_filtered_run_going_past_crowds_of_skipped_messages():
    # GIVEN 200 adyen messages and 5 stripe ones, received in random samples
    def redrive_stripe(expected):
        sqs = SamplingSqs(["adyen"] * 200 + ["stripe"] * 5)
        options = MoverOptions(workers=1, wait_seconds=0, expected=expected)
        return sqs, ClientMover(sqs, "dlq", "target", RedriveFilter(provider="stripe"), options).run()

    # WHEN the start count is unknown THEN the run can stop early, crowded out (nothing lost, just not done)
    sqs, blind = redrive_stripe(None)
    assert blind.moved < 5 and len(sqs.visible["dlq"]) == 205 - blind.moved and not sqs.in_flight
    # WHEN it is known THEN every stripe message moves and every adyen one stays
    sqs, result = redrive_stripe(205)
    assert (result.moved, result.skipped, result.failed) == (5, 200, 0)
    assert len(sqs.visible["target"]) == 5 and len(sqs.visible["dlq"]) == 200 and not sqs.in_flight


def test_ctrl_c_stops_the_workers_after_their_current_batch(monkeypatch):
    # GIVEN Ctrl-C arrives while the main thread waits for the workers
    import webhookctl.operate.redrive as redrive

    real_wait = redrive.wait

    def interrupted_wait(*args, **kwargs):
        real_wait(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(redrive, "wait", interrupted_wait)
    sqs = SamplingSqs(["stripe"] * 2000, delay=0.02)  # 4 workers: about 2000 messages/s, 0.5 s to the Ctrl-C
    # WHEN
    result = ClientMover(sqs, "dlq", "target", RedriveFilter(), MoverOptions(wait_seconds=0)).run()
    # THEN the run stopped part-way, says it was interrupted (exit 130), and left nothing in flight or lost
    assert result.interrupted and result.exit_code == 130 and 0 < result.moved < 2000
    assert result.summary().endswith(", interrupted")
    assert not sqs.in_flight
    assert len(sqs.visible["target"]) == result.moved and len(sqs.visible["dlq"]) == 2000 - result.moved


def test_copies_that_fail_again_and_return_to_the_dlq_are_not_moved_twice(pipeline):
    # GIVEN messages on the DLQ, and a "processing queue" that dead-letters everything at once
    # (the DLQ itself as the target: every copy lands back where it came from, as a new message)
    fill(pipeline.sqs, pipeline.dlq_url, originals())

    def send(real, kwargs, n):  # a cycling run would need more than the 3 batches 25 messages take
        if n > 6:
            raise RuntimeError("the mover is moving its own copies again")
        return real(**kwargs)

    # WHEN redriving
    result = ClientMover(Faulty(pipeline.sqs, send_message_batch=send), pipeline.dlq_url, pipeline.dlq_url,
                         RedriveFilter(), MoverOptions(wait_seconds=0, visibility_timeout=1)).run()
    # THEN each original moves once, the run ends, and the returned copies are left for the next run
    assert (result.moved, result.failed, result.exit_code) == (COUNT, 0, 0)
    assert contents(drain(pipeline.sqs, pipeline.dlq_url)) == contents(as_received(originals()))
