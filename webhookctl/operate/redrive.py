"""Moving DLQ messages back: SQS's own move task where it can, else a careful receive -> send -> delete mover.

The mover never deletes a message before its copy was accepted by the target queue; a crash between the
two leaves a duplicate, which the processor's idempotency (keyed on webhookId, not MessageId) absorbs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from webhookctl.edge.clock import RateLimiter
from webhookctl.edge.errors import Interrupted, WebhookctlError
from webhookctl.operate.dlq import MESSAGE_ATTRIBUTE_NAMES, SYSTEM_ATTRIBUTE_NAMES, message_tags, release

MOVE_TASK_MAX_RATE = 500  # messages/s, SQS's cap for StartMessageMoveTask
UNSUPPORTED_CODES = {"UnsupportedOperation", "AccessDenied", "AccessDeniedException", "InvalidAction",
                     "NotImplemented", "InternalFailure", "500", "501"}


@dataclass(frozen=True)
class RedriveFilter:
    """Which messages to move; None matches anything."""

    provider: str | None = None
    event_type: str | None = None

    @property
    def active(self) -> bool:
        return self.provider is not None or self.event_type is not None

    def matches(self, message: Mapping[str, Any]) -> bool:
        tags = message_tags(message)
        return ((self.provider is None or tags.provider == self.provider)
                and (self.event_type is None or tags.event_type == self.event_type))


@dataclass
class RedriveResult:
    """Counts of one run; `errors` holds the distinct reasons behind `failed`."""

    mode: str
    dry_run: bool = False
    moved: int = 0
    failed: int = 0
    skipped: int = 0
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130  # Ctrl-C: what was moved stays moved, the rest stays on the DLQ
        return 1 if self.failed or self.errors else 0

    def summary(self) -> str:
        verb = "would move" if self.dry_run else "moved"
        line = f"{verb} {self.moved}, failed {self.failed}, skipped {self.skipped} ({self.mode})"
        return line + (", interrupted" if self.interrupted else "")

    def note_error(self, reason: str) -> None:
        if reason not in self.errors:
            self.errors.append(reason)


# ---- the client-side mover ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MoverOptions:
    limit: int | None = None
    rate: float | None = None
    dry_run: bool = False
    workers: int = 4
    # Long enough to send and delete a batch (and wait for the rate limiter) before SQS shows it again.
    visibility_timeout: int = 120
    wait_seconds: int = 1
    # Consecutive receives (across all workers) with nothing new before the run decides the queue is
    # drained (a receive samples SQS hosts, so one empty answer proves little).
    idle_receives: int = 2
    # How many messages the DLQ held at the start (ApproximateNumberOfMessages), if known. Until that many
    # distinct ones were seen, a receive returning only already-seen (skipped) messages is not "drained":
    # with a filter, released non-matching messages can crowd out the matching ones for a while.
    expected: int | None = None
    # ...but never more than this many such receives in a row, whatever the estimate said.
    max_stale_receives: int = 50


class ClientMover:
    """Bounded workers, each: receive <=10 -> send the matching ones -> delete only what was sent."""

    def __init__(self, sqs: Any, source_url: str, target_url: str, message_filter: RedriveFilter,
                 options: MoverOptions, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 on_progress: Callable[[RedriveResult], None] | None = None) -> None:
        self.sqs, self.source_url, self.target_url = sqs, source_url, target_url
        self.filter, self.options = message_filter, options
        self.limiter = RateLimiter(options.rate, clock, sleep) if options.rate else None
        self.on_progress = on_progress or (lambda result: None)
        self.result = RedriveResult(mode="client-side", dry_run=options.dry_run)
        self._seen: set[str] = set()
        self._budget = options.limit
        self._idle = self._stale = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def run(self) -> RedriveResult:
        with ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="redrive") as pool:
            futures = [pool.submit(self._worker) for _ in range(self.options.workers)]
            pending = set(futures)
            try:
                while pending:  # polled, so Ctrl-C reaches the main thread between checks
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
                    if any(f.exception() for f in done):
                        break
            except KeyboardInterrupt:
                self.result.interrupted = True
            finally:
                self._stop.set()
        for future in futures:
            if future.exception() is not None:
                self.result.note_error(f"a worker stopped: {short_reason(future.exception())}")
        return self.result

    def _worker(self) -> None:
        try:
            while not self._stop.is_set():
                wanted = self._reserve()
                if not wanted:
                    return
                self._one_batch(wanted)
        except BaseException:
            self._stop.set()
            raise

    def _reserve(self) -> int:
        """Take up to 10 from the --limit budget (returned in _settle)."""
        with self._lock:
            if self._budget is None:
                return 10
            wanted = min(10, self._budget)
            self._budget -= wanted
            return wanted

    def _settle(self, reserved: int, used: int) -> None:
        with self._lock:
            if self._budget is not None:
                self._budget += reserved - used
            self.on_progress(self.result)

    def _one_batch(self, wanted: int) -> None:
        """One receive and its consequences: move what matches, release the rest."""
        if self.limiter:
            self.limiter.acquire(wanted)
        messages = self.sqs.receive_message(
            QueueUrl=self.source_url, MaxNumberOfMessages=wanted,
            VisibilityTimeout=self.options.visibility_timeout, WaitTimeSeconds=self.options.wait_seconds,
            MessageAttributeNames=MESSAGE_ATTRIBUTE_NAMES,
            MessageSystemAttributeNames=SYSTEM_ATTRIBUTE_NAMES).get("Messages", [])
        with self._lock:
            # A message seen before was skipped or failed earlier in this run: leave it where it is.
            fresh = [m for m in messages if m["MessageId"] not in self._seen]
            self._seen.update(m["MessageId"] for m in fresh)
            self._note_receive(bool(messages), bool(fresh))
        to_move = [m for m in fresh if self.filter.matches(m)]
        to_release = [m for m in messages if m not in to_move]
        with self._lock:
            self.result.skipped += len(fresh) - len(to_move)
        try:
            if self.options.dry_run:
                to_release += to_move
                with self._lock:
                    self.result.moved += len(to_move)
            elif to_move:
                self._move(to_move)
        finally:
            self._release_quietly(to_release)
            self._settle(wanted, len(to_move))

    def _note_receive(self, got_any: bool, got_new: bool) -> None:
        """Decide (under the lock) whether the queue is drained; stopping lets running batches finish."""
        if got_new:
            self._idle = self._stale = 0
            return
        unseen_left = self.options.expected is not None and len(self._seen) < self.options.expected
        if got_any and unseen_left and self._stale < self.options.max_stale_receives:
            self._stale += 1
            return
        self._idle += 1
        if self._idle >= self.options.idle_receives:
            self._stop.set()

    def _move(self, messages: list[dict[str, Any]]) -> None:
        by_id = {str(i): m for i, m in enumerate(messages)}
        try:
            response = self.sqs.send_message_batch(
                QueueUrl=self.target_url, Entries=[copy_entry(i, m) for i, m in by_id.items()])
        except BaseException:
            self._count_failed(len(messages), "SendMessageBatch raised: nothing deleted, messages released")
            self._release_quietly(messages)
            raise
        failed_sends = [by_id[f["Id"]] for f in response.get("Failed", [])]
        for failure in response.get("Failed", []):
            self._count_failed(1, f"send refused ({failure.get('Code')}: {failure.get('Message', '')}); "
                                  "left on the DLQ")
        self._release_quietly(failed_sends)
        sent = [(i, by_id[i]) for i in (s["Id"] for s in response.get("Successful", []))]
        with self._lock:
            # A copy that fails again reaches the DLQ under the MessageId it got here: marking it seen
            # makes the run end instead of cycling the same poison events while the bug is unfixed.
            self._seen.update(s["MessageId"] for s in response.get("Successful", []) if "MessageId" in s)
        if sent:
            self._delete_sent(sent)

    def _delete_sent(self, sent: list[tuple[str, dict[str, Any]]]) -> None:
        duplicated = ("copied to the processing queue but still on the DLQ (delete failed): a rerun "
                      "sends it again, which the processor's idempotency absorbs")
        try:
            entries = [{"Id": i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in sent]
            response = self.sqs.delete_message_batch(QueueUrl=self.source_url, Entries=entries)
        except BaseException:
            self._count_failed(len(sent), duplicated)
            raise
        with self._lock:
            self.result.moved += len(response.get("Successful", []))
        if response.get("Failed"):
            self._count_failed(len(response["Failed"]), duplicated)

    def _count_failed(self, count: int, reason: str) -> None:
        with self._lock:
            self.result.failed += count
            self.result.note_error(reason)

    def _release_quietly(self, messages: list[dict[str, Any]]) -> None:
        """Best effort: whatever is not released reappears anyway when its visibility timeout ends."""
        if not messages:
            return
        with contextlib.suppress(Exception):  # the visibility timeout is the safety net
            release(self.sqs, self.source_url, [m["ReceiptHandle"] for m in messages])


def copy_entry(entry_id: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """A SendMessageBatch entry carrying the body, message attributes and (FIFO) group/dedup ids."""
    entry: dict[str, Any] = {"Id": entry_id, "MessageBody": message["Body"]}
    attributes = {name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                  for name, value in (message.get("MessageAttributes") or {}).items()}
    if attributes:
        entry["MessageAttributes"] = attributes
    system = message.get("Attributes") or {}
    for key in ("MessageGroupId", "MessageDeduplicationId"):
        if key in system:
            entry[key] = system[key]
    return entry


# ---- SQS's message-move task -------------------------------------------------------------------------


class MoveTaskUnsupported(Exception):
    """The endpoint or the caller cannot use the move-task API (emulator, restricted account)."""


class MoveTaskFailed(WebhookctlError):
    """SQS reported the task FAILED (its FailureReason is in the message)."""


class MoveTaskCancelled(WebhookctlError):
    """The task was cancelled by someone else."""


class MoveTaskInterrupted(Interrupted, MoveTaskCancelled):
    """Ctrl-C here: the task was cancelled, and the message says how far it got."""


class MoveTaskBusy(WebhookctlError):
    """SQS allows one active move task per queue."""


def is_unsupported(exc: BaseException) -> bool:
    """moto raises NotImplementedError in-process and answers 500 as a server; IAM answers AccessDenied."""
    if isinstance(exc, NotImplementedError):
        return True
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in UNSUPPORTED_CODES or status in (500, 501)


def short_reason(exc: BaseException) -> str:
    """One line without the HTML body an emulator's 500 carries."""
    if isinstance(exc, NotImplementedError):
        return "not implemented by this endpoint"
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):  # not an AWS answer: its own first line says what happened
        return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    code = response.get("Error", {}).get("Code", type(exc).__name__)
    return f"{getattr(exc, 'operation_name', 'the call')} answered {code}"


@dataclass(frozen=True)
class TaskProgress:
    status: str
    moved: int
    to_move: int | None


def move_task_redrive(sqs: Any, source_arn: str, destination_arn: str, *, rate: int | None = None,
                      sleep: Callable[[float], None] = time.sleep, poll_seconds: float = 5.0,
                      on_progress: Callable[[TaskProgress], None] | None = None) -> RedriveResult:
    """Start a move task, follow it to the end; Ctrl-C cancels it (moved messages stay moved)."""
    on_progress = on_progress or (lambda progress: None)
    latest = _latest_task(sqs, source_arn)
    if latest and latest.get("Status") in ("RUNNING", "CANCELLING"):
        raise MoveTaskBusy(f"a message-move task is already {latest['Status']} on {source_arn}: wait for it, "
                           "or cancel it with `aws sqs cancel-message-move-task --task-handle "
                           f"{latest.get('TaskHandle', 'HANDLE')}`")
    request = {"SourceArn": source_arn, "DestinationArn": destination_arn}
    if rate:
        request["MaxNumberOfMessagesPerSecond"] = rate
    try:
        handle = sqs.start_message_move_task(**request)["TaskHandle"]
    except Exception as exc:
        if is_unsupported(exc):
            raise MoveTaskUnsupported(short_reason(exc)) from exc
        raise
    earlier = latest.get("StartedTimestamp") if latest else None
    return _follow_task(sqs, source_arn, handle, earlier, sleep, poll_seconds, on_progress)


def _follow_task(sqs: Any, source_arn: str, handle: str, earlier: Any, sleep: Callable[[float], None],
                 poll_seconds: float, on_progress: Callable[[TaskProgress], None]) -> RedriveResult:
    """Polls until the task ends. Only RUNNING entries carry the handle, so a listed task that is not the
    one seen before we started is ours (SQS allows one active task per queue)."""
    moved = 0
    try:
        while True:
            task = _latest_task(sqs, source_arn) or {}
            if task.get("TaskHandle") != handle and task.get("StartedTimestamp", earlier) == earlier:
                sleep(poll_seconds)  # our task is not listed yet (the listing is eventually consistent)
                continue
            moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
            progress = TaskProgress(task["Status"], moved, task.get("ApproximateNumberOfMessagesToMove"))
            on_progress(progress)
            if progress.status == "COMPLETED":
                return RedriveResult(mode="move task", moved=moved)
            _raise_if_ended(task, moved)
            sleep(poll_seconds)
    except KeyboardInterrupt:
        answer = sqs.cancel_message_move_task(TaskHandle=handle)
        moved = int(answer.get("ApproximateNumberOfMessagesMoved", moved))
        raise MoveTaskInterrupted(f"interrupted: cancelled the move task after about {moved} messages: those "
                                  "stay on the processing queue, the rest stay on the DLQ; run `webhookctl dlq "
                                  "redrive` again to finish") from None


def _raise_if_ended(task: Mapping[str, Any], moved: int) -> None:
    status = task["Status"]
    if status == "FAILED":
        raise MoveTaskFailed(f"the message-move task failed after moving about {moved} messages: "
                             f"{task.get('FailureReason', 'no reason given')}; fix that, then run "
                             "`webhookctl dlq redrive` again (or add --client-side)")
    if status in ("CANCELLING", "CANCELLED"):
        raise MoveTaskCancelled(f"the message-move task was cancelled elsewhere after about {moved} "
                                "messages; the rest stay on the DLQ")


def _latest_task(sqs: Any, source_arn: str) -> dict[str, Any] | None:
    try:
        results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1).get("Results", [])
    except Exception as exc:
        if is_unsupported(exc):
            raise MoveTaskUnsupported(short_reason(exc)) from exc
        raise
    return results[0] if results else None


# ---- choosing the way --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedriveRequest:
    filter: RedriveFilter = RedriveFilter()
    limit: int | None = None
    rate: int | None = None
    dry_run: bool = False
    client_side: bool = False
    workers: int = 4


class RedriveObserver:
    """What a redrive reports while it runs; the command prints, the default stays silent."""

    def client_side(self, reason: str, estimate: int) -> None: ...

    def task(self, progress: TaskProgress) -> None: ...

    def moved(self, result: RedriveResult) -> None: ...


def redrive(sqs: Any, stack: Any, request: RedriveRequest, *, clock: Any,
            observer: RedriveObserver | None = None) -> RedriveResult:
    """DLQ -> processing queue: SQS's move task when it can do the run, else the client-side mover."""
    from webhookctl.handlers.webhook_common.contract import stack as outputs

    observer = observer or RedriveObserver()
    dlq_url, target_url = stack.require(outputs.DEAD_LETTER_QUEUE_URL), stack.require(outputs.PROCESSING_QUEUE_URL)
    reason = _client_side_reason(request)
    if reason is None:
        target_arn = stack.get(outputs.PROCESSING_QUEUE_ARN) or _queue_arn(sqs, target_url)
        try:
            return move_task_redrive(sqs, stack.require(outputs.DEAD_LETTER_QUEUE_ARN), target_arn,
                                     rate=request.rate, sleep=clock.sleep, on_progress=observer.task)
        except MoveTaskUnsupported as exc:
            reason = f"the message-move task API is unavailable here ({exc})"
    from webhookctl.operate.dlq import queue_counts

    visible = queue_counts(sqs, dlq_url)[0]
    options = MoverOptions(limit=request.limit, rate=request.rate, dry_run=request.dry_run,
                           workers=request.workers, expected=visible)
    observer.client_side(reason, min(request.limit or visible, visible))
    return ClientMover(sqs, dlq_url, target_url, request.filter, options, sleep=clock.sleep,
                       clock=clock.monotonic, on_progress=observer.moved).run()


def _client_side_reason(request: RedriveRequest) -> str | None:
    """Why the move task cannot do this run, or None when it can."""
    if request.client_side:
        return "--client-side given"
    if request.filter.active or request.limit or request.dry_run:
        return "the message-move task cannot filter, limit or dry-run"
    return None


def _queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
