"""SQS: the message-move task (DLQ redrive), queue scans at the sandbox's depth, and AWS::SQS::QueuePolicy."""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from webhookctl.tryit.emulator.cloudformation import placeholder_model, register_model
from webhookctl.tryit.emulator.patch import run_under
from webhookctl.tryit.emulator.probe import ACCOUNT, REGION, Probe, holds_a_lock

TASKS_LISTED = 10  # ListMessageMoveTasks shows a queue's 10 most recent tasks
MOVE_VISIBILITY_SECONDS = 60  # how long a message being moved stays hidden on the DLQ
ALREADY_RUNNING = ("There is already a task running. Only one active task is allowed for a source queue arn at a "
                   "given time.")

_tasks_lock = threading.Lock()
# The queue whose ReceiveMessage runs on this thread: moto moves a message to a DLQ only inside a receive.
_receiving = threading.local()


# --- the message-move task -----------------------------------------------------------------------------

@dataclass
class MoveTask:
    """One StartMessageMoveTask, as ListMessageMoveTasks reports it."""

    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started: int  # epoch milliseconds
    to_move: int
    moved: int = 0
    status: str = "RUNNING"
    failure: str | None = None

    @property
    def handle(self) -> str:
        """AWS's format: base64 of the task id and its source queue, which CancelMessageMoveTask decodes."""
        return base64.b64encode(json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn}).encode()).decode()

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"Status": self.status, "SourceArn": self.source_arn, "StartedTimestamp": self.started,
                                 "ApproximateNumberOfMessagesMoved": self.moved,
                                 "ApproximateNumberOfMessagesToMove": self.to_move}
        optional = {"TaskHandle": self.handle if self.status == "RUNNING" else None,  # AWS: only while RUNNING
                    "DestinationArn": self.destination_arn, "MaxNumberOfMessagesPerSecond": self.rate,
                    "FailureReason": self.failure}
        return entry | {key: value for key, value in optional.items() if value is not None}


def patch_message_move_task() -> None:
    """StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask (moto has none: a server answers 500,
    which botocore retries for about 30 s). The move runs inside StartMessageMoveTask, so the task is listed
    COMPLETED (or FAILED) once the call returns; the rate is accepted and echoed, not applied."""
    from moto.core.responses import ActionResult
    from moto.sqs.responses import SQSResponse

    def start_message_move_task(self: Any) -> Any:
        handle = start_task(self._get_param("SourceArn"), self._get_param("DestinationArn"),
                            self._get_param("MaxNumberOfMessagesPerSecond"))
        return ActionResult({"TaskHandle": handle})

    def list_message_move_tasks(self: Any) -> Any:
        tasks = _tasks(_queue(self._get_param("SourceArn"), "SourceArn"))
        return ActionResult({"Results": [t.entry() for t in tasks[:self._get_param("MaxResults") or 1]]})

    def cancel_message_move_task(self: Any) -> Any:
        return ActionResult({"ApproximateNumberOfMessagesMoved": cancel_task(self._get_param("TaskHandle"))})

    SQSResponse.start_message_move_task = start_message_move_task
    SQSResponse.list_message_move_tasks = list_message_move_tasks
    SQSResponse.cancel_message_move_task = cancel_message_move_task
    _remember_dead_letter_sources()


def start_task(source_arn: str, destination_arn: str | None, rate: int | None) -> str:
    """Validate as AWS does, register the task (one active per queue), then move."""
    source = _queue(source_arn, "SourceArn")
    if not _backend(source).list_dead_letter_source_queues(source.name):
        raise _error("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    destination = _queue(destination_arn, "DestinationArn") if destination_arn else None
    with _tasks_lock:
        tasks = _tasks(source)
        if any(t.status in ("RUNNING", "CANCELLING") for t in tasks):
            raise _error("InvalidParameterValue", ALREADY_RUNNING)
        # Later than the queue's previous task even within one millisecond: callers tell tasks apart by it.
        started = max(int(time.time() * 1000), tasks[0].started + 1 if tasks else 0)
        task = MoveTask(str(uuid.uuid4()), source_arn, destination_arn, rate, started,
                        to_move=source.approximate_number_of_messages)
        tasks[:] = [task, *tasks][:TASKS_LISTED]
    _move(task, source, destination)
    return task.handle


def cancel_task(handle: str) -> int:
    """Cancel a RUNNING task (only another request's can be: a move completes within its Start call)."""
    try:
        decoded = json.loads(base64.b64decode(handle, validate=True))
        task_id, source_arn = decoded["taskId"], decoded["sourceArn"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _error("InvalidParameterValue", "Value for parameter TaskHandle is invalid.") from None
    with _tasks_lock:
        for task in _tasks(_queue(source_arn, "SourceArn")):
            if task.status == "RUNNING" and task.task_id == task_id:
                task.status = "CANCELLING"  # the mover stops after its current batch
                return task.moved
    # What AWS answers for a handle that names no running task (a finished task's handle is no longer listed).
    raise _error("ResourceNotFoundException", "Task does not exist.")


def _move(task: MoveTask, source: Any, destination: Any | None) -> None:
    """receive -> send a copy -> delete, as SQS's mover does: each copy is a new message (new MessageId)."""
    backend = _backend(source)
    try:
        while task.status == "RUNNING":
            batch = backend.receive_message(source.name, 10, 0, MOVE_VISIBILITY_SECONDS, ["All"])
            if not batch:
                break
            for index, message in enumerate(batch):
                try:
                    _send_copy(destination or _dead_letter_source(message, source), message)
                except Exception:
                    for unsent in batch[index:]:  # back on the DLQ at once, as AWS leaves what it did not move
                        backend.change_message_visibility(source.name, unsent.receipt_handle, 0)
                    raise
                backend.delete_message(source.name, message.receipt_handle)
                task.moved += 1
    except Exception as exc:
        task.status, task.failure = "FAILED", getattr(exc, "code", type(exc).__name__)
        return
    task.status = "CANCELLED" if task.status == "CANCELLING" else "COMPLETED"


def _send_copy(target: Any, message: Any) -> None:
    """Body and message attributes kept; FIFO to FIFO keeps the group, and AWS replaces the deduplication id
    with the original message id."""
    fifo = target.fifo_queue
    _backend(target).send_message(target.name, message.body, message_attributes=message.message_attributes,
                                  group_id=message.group_id if fifo else None,
                                  deduplication_id=message.id if fifo else None)


def _dead_letter_source(message: Any, dlq: Any) -> Any:
    """Where a message goes back to without a DestinationArn: the queue it was dead-lettered from (a message
    sent to the DLQ directly has none, unless the DLQ has a single source queue)."""
    from moto.sqs.exceptions import QueueDoesNotExist

    arn = getattr(message, "dead_letter_source_arn", None)
    sources = [] if arn else _backend(dlq).list_dead_letter_source_queues(dlq.name)
    if arn is None and len(sources) != 1:
        raise QueueDoesNotExist()  # the task FAILS with AWS.SimpleQueueService.NonExistentQueue
    return _queue_by_arn(arn) if arn else sources[0]


def _remember_dead_letter_sources() -> None:
    """moto moves a message to the DLQ without noting its source queue (AWS keeps DeadLetterQueueSourceArn),
    and a redrive to the source queues needs it: note it on the message as a receive moves it."""
    from moto.sqs.models import Queue, SQSBackend

    original_receive, original_add = SQSBackend.receive_message, Queue.add_message

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        outer, _receiving.queue = getattr(_receiving, "queue", None), self.get_queue(queue_name)
        try:
            return original_receive(self, queue_name, *args, **kwargs)
        finally:
            _receiving.queue = outer

    def add_message(self: Any, message: Any) -> None:
        source = getattr(_receiving, "queue", None)
        if source is not None and source.dead_letter_queue is self:
            message.dead_letter_source_arn = source.queue_arn
        original_add(self, message)

    SQSBackend.receive_message = receive_message
    Queue.add_message = add_message


def _tasks(queue: Any) -> list[MoveTask]:
    """A queue's move tasks, newest first (kept on the queue, so moto's reset forgets them)."""
    return vars(queue).setdefault("message_move_tasks", [])


def _queue(arn: str, parameter: str) -> Any:
    """The queue a request parameter names, or the error AWS gives for it."""
    from moto.sqs.exceptions import QueueDoesNotExist

    if len(arn.split(":")) != 6 or not arn.startswith("arn:aws:sqs:"):
        raise _error("InvalidParameterValue", f"Value {arn} for parameter {parameter} is invalid.")
    try:
        return _queue_by_arn(arn)
    except QueueDoesNotExist:
        raise _error("ResourceNotFoundException",
                     f"The resource that you specified for the {parameter} parameter doesn't exist.") from None


def _queue_by_arn(arn: str) -> Any:
    from moto.sqs.models import sqs_backends

    region, account, name = arn.split(":")[3:]
    return sqs_backends[account][region].get_queue(name)


def _backend(queue: Any) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[queue.account_id][queue.region]


def _error(code: str, message: str) -> Exception:
    """AWS's error codes and messages for these calls (as recorded against AWS by LocalStack's tests)."""
    from moto.sqs.exceptions import SQSException

    return SQSException(code, message)


def move_task_is_missing(aws: Probe) -> bool:
    """StartMessageMoveTask is not implemented."""
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName="probe-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(QueueName="probe", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})
    try:
        sqs.start_message_move_task(SourceArn=dlq_arn)
    except NotImplementedError:  # in-process moto's way of saying so (a server answers 500)
        return True
    return False


# --- queue scans ---------------------------------------------------------------------------------------

def patch_fast_queue_scans() -> None:
    """moto's SQS is O(depth) per call with two datetime conversions per queued message, and a receive
    recomputes every queue attribute for each message it returns (O(depth²)): once a backlog forms, the
    sandbox's pipeline stalls (moto-notes §8). Same answers, cheaper: the retention check reads the one attribute
    it needs, and visibility/delay are compared against one clock reading per call."""
    from moto.core.utils import unix_time, unix_time_millis
    from moto.sqs.models import Queue, SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    Queue.messages = property(messages)
    Queue.approximate_number_of_messages_delayed = property(delayed)
    Queue.approximate_number_of_messages_not_visible = property(not_visible)


def receive_slows_with_depth(aws: Probe) -> bool:
    """Timing (a cost, not a behaviour): a receive from a queue 200 deep takes over 5x one from a queue 10 deep
    (measured: ~14x unpatched, ~1x with the patch)."""
    sqs = aws.client("sqs")
    shallow, deep = (_receive_seconds(sqs, name, depth) for name, depth in (("shallow", 10), ("deep", 200)))
    return deep > 5 * shallow


def _receive_seconds(sqs: Any, name: str, depth: int) -> float:
    """The fastest of three receives (of 10 messages, left visible) from a new queue `depth` deep."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    for _ in range(depth // 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])
    fastest = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


# --- atomicity -----------------------------------------------------------------------------------------

def patch_atomic_requests() -> None:
    """SQS applies each request atomically: a message one ReceiveMessage returns is in no other's answer until
    its visibility timeout ends. moto's SQS has no lock, and the sandbox runs two queue pollers beside eight
    receiver threads sending: one lock per request, as DynamoDB's patch does."""
    from moto.sqs.responses import SQSResponse

    SQSResponse.request_lock = threading.RLock()
    run_under(SQSResponse.request_lock, SQSResponse, "call_action")


def delete_races_send(aws: Probe) -> bool:
    """Structural: moto's Queue.delete_message rebuilds the message list without the lock its send takes, so a
    message sent while another is deleted can vanish (and a receive reads the list unlocked too). A race cannot
    be provoked deterministically: the probe reads whether delete_message takes that lock, or a lock serialises
    SQS's requests (the patch puts one on the request handler)."""
    import inspect

    from moto.sqs.models import Queue
    from moto.sqs.responses import SQSResponse

    aws.client("sqs").list_queues()
    return "_messages_lock" not in inspect.getsource(Queue.delete_message) and not holds_a_lock(SQSResponse)


# --- templates -----------------------------------------------------------------------------------------

def patch_queue_policy_model() -> None:
    """A queue policy has no behaviour a local run can observe; it gets an identity so Refs to it resolve."""
    register_model(placeholder_model("AWS::SQS::QueuePolicy"))


def cloudformation_ignores_queue_policies(aws: Probe) -> bool:
    """A Ref to an AWS::SQS::QueuePolicy resolves to nothing."""
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:probe"
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                             "Action": "sqs:SendMessage", "Resource": queue_arn}]}
    return aws.ignores("AWS::SQS::QueuePolicy", {"Queues": [{"Ref": "Queue"}], "PolicyDocument": policy},
                       Queue={"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "probe"}})
