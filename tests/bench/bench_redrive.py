"""Client-side redrive throughput against a fake SQS whose every call takes 20 ms, beside a naive loop.

Targets (issue 5): at least 400 messages/s and at most 0.31 API calls per message moved.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter, deque

from webhookctl.operate.redrive import ClientMover, MoverOptions, RedriveFilter

LATENCY = 0.020
MESSAGES = 2000
NAIVE_MESSAGES = 50


class FakeSqs:
    """Two in-memory queues; every call sleeps LATENCY outside the lock, as a network round trip would."""

    def __init__(self, messages: int) -> None:
        self.visible = {"dlq": deque(), "target": deque()}
        self.in_flight: dict[str, dict] = {}
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count()
        self._lock = threading.Lock()
        for i in range(messages):
            self.visible["dlq"].append(self._message(json.dumps({"webhookId": f"evt_{i}", "timestamp": i}),
                                                     {"provider": {"DataType": "String", "StringValue": "stripe"}}))

    def _message(self, body: str, attributes: dict) -> dict:
        return {"MessageId": f"m{next(self._ids)}", "Body": body, "MessageAttributes": attributes}

    def _call(self, name: str) -> None:
        time.sleep(LATENCY)
        with self._lock:
            self.calls[name] += 1

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int = 1, **_: object) -> dict:
        self._call("ReceiveMessage")
        with self._lock:
            queue = self.visible[QueueUrl]
            batch = [queue.popleft() for _ in range(min(MaxNumberOfMessages, len(queue)))]
            for message in batch:
                message["ReceiptHandle"] = f"rh-{message['MessageId']}-{next(self._ids)}"
                self.in_flight[message["ReceiptHandle"]] = message
        return {"Messages": [dict(m) for m in batch]}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self._call("SendMessageBatch")
        with self._lock:
            for entry in Entries:
                self.visible[QueueUrl].append(self._message(entry["MessageBody"], entry.get("MessageAttributes", {})))
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def send_message(self, QueueUrl: str, MessageBody: str, MessageAttributes: dict | None = None) -> dict:
        self._call("SendMessage")
        with self._lock:
            self.visible[QueueUrl].append(self._message(MessageBody, MessageAttributes or {}))
        return {}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self._call("DeleteMessageBatch")
        with self._lock:
            for entry in Entries:
                self.in_flight.pop(entry["ReceiptHandle"], None)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> dict:
        self._call("DeleteMessage")
        with self._lock:
            self.in_flight.pop(ReceiptHandle, None)
        return {}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self._call("ChangeMessageVisibilityBatch")
        with self._lock:
            for entry in Entries:
                message = self.in_flight.pop(entry["ReceiptHandle"], None)
                if message:
                    self.visible[QueueUrl].append(message)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def naive_redrive(sqs: FakeSqs) -> int:
    """The ad-hoc script: one message at a time, receive -> send -> delete."""
    moved = 0
    while messages := sqs.receive_message(QueueUrl="dlq", MaxNumberOfMessages=1)["Messages"]:
        message = messages[0]
        sqs.send_message(QueueUrl="target", MessageBody=message["Body"],
                         MessageAttributes=message["MessageAttributes"])
        sqs.delete_message(QueueUrl="dlq", ReceiptHandle=message["ReceiptHandle"])
        moved += 1
    return moved


def figures(label: str, moved: int, seconds: float, sqs: FakeSqs) -> str:
    calls = sum(sqs.calls.values())
    return (f"{label:<22} {moved:>5} moved in {seconds:5.2f} s = {moved / seconds:7.1f} msg/s, "
            f"{calls:>5} calls = {calls / max(moved, 1):.3f} calls/msg")


def run() -> list[str]:
    lines = [f"fake SQS: {LATENCY * 1000:.0f} ms per call; targets >= 400 msg/s and <= 0.31 calls/msg"]
    sqs = FakeSqs(MESSAGES)
    started = time.perf_counter()
    result = ClientMover(sqs, "dlq", "target", RedriveFilter(), MoverOptions()).run()
    elapsed = time.perf_counter() - started
    assert (result.moved, len(sqs.visible["target"]), len(sqs.visible["dlq"])) == (MESSAGES, MESSAGES, 0)
    rate, per_message = result.moved / elapsed, sum(sqs.calls.values()) / result.moved
    lines.append(figures(f"client-side ({MoverOptions().workers} workers)", result.moved, elapsed, sqs))
    naive = FakeSqs(NAIVE_MESSAGES)
    started = time.perf_counter()
    moved = naive_redrive(naive)
    lines.append(figures("naive one-at-a-time", moved, time.perf_counter() - started, naive))
    verdict = "PASS" if rate >= 400 and per_message <= 0.31 else "FAIL"
    lines.append(f"{verdict}: {rate:.0f} msg/s (>= 400), {per_message:.3f} calls/msg (<= 0.31)")
    return lines
