"""Running the real handler functions in this process, one invocation at a time per thread, as Lambda would.

Each invocation gets a Lambda-shaped context, and what the handler prints or logs is captured per thread
(the handlers run concurrently) so it can be shown and shipped to the function's log group.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import queue
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

Handler = Callable[[Any, Any], Any]


_ROUTING = threading.Lock()


class OutputRouter(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: a thread inside an invocation writes to that invocation's buffer."""

    def __init__(self, real: TextIO, local: threading.local) -> None:
        self.real, self._local = real, local

    def write(self, text: str) -> int:
        buffer = getattr(self._local, "buffer", None)
        return (buffer or self.real).write(text)

    def flush(self) -> None:
        if getattr(self._local, "buffer", None) is None:
            self.real.flush()

    def isatty(self) -> bool:
        return False


@dataclass
class Capture:
    """Per-thread output capture, installed once into sys.stdout and sys.stderr."""

    stdout: TextIO
    stderr: TextIO
    _local: threading.local = field(default_factory=threading.local)

    @classmethod
    def install(cls) -> Capture:
        """Route sys.stdout/err through the capture (idempotent); the real streams stay reachable."""
        if isinstance(sys.stdout, OutputRouter) and isinstance(sys.stderr, OutputRouter):
            return cls(sys.stdout.real, sys.stderr.real, sys.stdout._local)
        capture = cls(sys.stdout, sys.stderr)
        sys.stdout = OutputRouter(capture.stdout, capture._local)
        sys.stderr = OutputRouter(capture.stderr, capture._local)
        _install_lambda_log_handler()
        return capture

    def uninstall(self) -> None:
        """Back to the streams and logging the process had (a test run goes on after the sandbox)."""
        with _ROUTING:
            for name in ("stdout", "stderr"):
                while isinstance(getattr(sys, name), OutputRouter):
                    setattr(sys, name, getattr(sys, name).real)
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, _CurrentStdout)]:
            root.removeHandler(handler)

    def ensure_routed(self) -> None:
        """Re-route if someone swapped sys.stdout/err since (a test runner's capture, click's CliRunner)."""
        with _ROUTING:
            for name in ("stdout", "stderr"):
                current = getattr(sys, name)
                if not isinstance(current, OutputRouter):
                    setattr(sys, name, OutputRouter(current, self._local))

    @contextmanager
    def lines(self) -> Iterator[list[str]]:
        """Collects what this thread writes inside the block; the list is filled when the block ends."""
        self.ensure_routed()
        collected: list[str] = []
        self._local.buffer = io.StringIO()
        try:
            yield collected
        finally:
            collected.extend(line for line in self._local.buffer.getvalue().splitlines() if line.strip())
            self._local.buffer = None


class _CurrentStdout(logging.Handler):
    """Lambda's runtime logs the root logger to stdout; resolving sys.stdout per record keeps the capture."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never break the handler
            self.handleError(record)


def _install_lambda_log_handler() -> None:
    root = logging.getLogger()
    if not any(isinstance(h, _CurrentStdout) for h in root.handlers):
        handler = _CurrentStdout()
        handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(message)s",
                                               "%Y-%m-%dT%H:%M:%S"))
        root.addHandler(handler)


@dataclass(frozen=True)
class LambdaContext:
    """The attributes handlers (and Powertools) read from Lambda's context object."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


@dataclass(frozen=True)
class Invocation:
    request_id: str
    result: Any
    error: str | None  # the error type and message, as Lambda reports a function error
    log_lines: list[str]
    duration_ms: float


@dataclass
class LocalFunction:
    """One deployed function, running its real handler in-process."""

    name: str
    handler: Handler
    arn: str
    timeout_s: int
    memory_mb: int
    log_group: str
    capture: Capture
    on_invoked: Callable[[LocalFunction, Invocation], None] = lambda function, invocation: None
    log_stream: str = field(default_factory=lambda: time.strftime("%Y/%m/%d") + "/[$LATEST]" + uuid.uuid4().hex)

    def invoke(self, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        context = LambdaContext(self.name, self.arn, self.memory_mb, request_id, self.log_group, self.log_stream,
                                time.time() + self.timeout_s)
        started = time.perf_counter()
        result, error = None, None
        with self.capture.lines() as lines:
            try:
                result = self.handler(event, context)
            except Exception as exc:  # noqa: BLE001 - a function error is a result in Lambda, not a crash
                error = f"{type(exc).__name__}: {exc}"
                print(traceback.format_exc().rstrip())
        duration = (time.perf_counter() - started) * 1000
        invocation = Invocation(request_id, result, error, lines, duration)
        self.on_invoked(self, invocation)
        return invocation


def warm(function: LocalFunction, event: Any) -> None:
    """One invocation that is neither shown nor logged: the handler makes its AWS clients now, in this
    thread, with the sandbox's environment (as a provisioned-concurrency container would have done)."""
    context = LambdaContext(function.name, function.arn, function.memory_mb, "warm-up", function.log_group,
                            function.log_stream, time.time() + function.timeout_s)
    # A warm-up failure is not reported here: it shows again, logged, on the first real request.
    with function.capture.lines(), contextlib.suppress(Exception):
        function.handler(event, context)


class LogShipper:
    """Ships invocation logs to the function's log group in the background (so `webhookctl logs` works)."""

    def __init__(self, logs: Any, *, flush_every_s: float = 0.5) -> None:
        self.logs, self.flush_every_s = logs, flush_every_s
        self._pending: queue.Queue[tuple[str, str, list[dict[str, Any]]]] = queue.Queue()
        self._streams: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)

    def start(self) -> LogShipper:
        self._thread.start()
        return self

    def invoked(self, function: LocalFunction, invocation: Invocation) -> None:
        """on_invoked hook: START / the handler's lines / END / REPORT, as Lambda writes them."""
        now = int(time.time() * 1000)
        rid = invocation.request_id
        lines = [f"START RequestId: {rid} Version: $LATEST", *invocation.log_lines, f"END RequestId: {rid}",
                 f"REPORT RequestId: {rid}\tDuration: {invocation.duration_ms:.2f} ms\t"
                 f"Memory Size: {function.memory_mb} MB"]
        events = [{"timestamp": now, "message": line} for line in lines]
        self._pending.put((function.log_group, function.log_stream, events))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_every_s):
            self.flush()

    def flush(self) -> None:
        batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        while not self._pending.empty():
            group, stream, events = self._pending.get_nowait()
            batches.setdefault((group, stream), []).extend(events)
        for (group, stream), events in batches.items():
            try:
                self._put(group, stream, events)
            except Exception as exc:  # noqa: BLE001 - losing local log lines must not stop the sandbox
                sys.__stderr__.write(f"sandbox: could not ship logs to {group}: {exc}\n")

    def _put(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        if (group, stream) not in self._streams:
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self._streams.add((group, stream))
        events.sort(key=lambda e: e["timestamp"])  # CloudWatch Logs wants each batch in time order
        for start in range(0, len(events), 5000):
            self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events[start:start + 5000])


def lambda_layout() -> None:
    """Make the handler code importable by the names Lambda gives it (`receiver`, `webhook_common.contract`)
    as aliases of its installed modules (`webhookctl.handlers...`), so one process holds one copy of each:
    the CLI's imports and the handlers' own share their state (caches, clients, patches)."""
    import pkgutil

    import webhookctl.handlers as package

    found = [info.name for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]
    shared = f"{package.__name__}.webhook_common"
    # The shared package first: the entry modules import it by its Lambda name.
    for name in sorted(found, key=lambda n: not n.startswith(shared)):
        module = importlib.import_module(name)
        alias = name.removeprefix(f"{package.__name__}.")
        loaded = sys.modules.setdefault(alias, module)
        if loaded is not module:
            raise RuntimeError(f"{alias} was already loaded from {getattr(loaded, '__file__', '?')}, not as "
                               f"{name}: import the handlers only after lambda_layout()")


def load_handler(spec: str) -> Handler:
    """`receiver.handler` -> the deployed function's handler, from the one copy of the handler code."""
    from webhookctl.edge.errors import WebhookctlError

    module, _, attr = spec.rpartition(".")
    try:
        lambda_layout()
        return getattr(importlib.import_module(module), attr)
    except Exception as exc:  # noqa: BLE001 - a handler being edited: say which and why, then stop
        raise WebhookctlError(f"cannot load the handler {spec}: {type(exc).__name__}: {exc}; "
                              "fix it and run `webhookctl local up` again") from exc


def new_container() -> None:
    """Forget the handlers' cached configuration and clients, as a fresh Lambda container would."""
    runtime = sys.modules.get("webhook_common.runtime")
    if runtime is not None and hasattr(runtime, "reset"):
        runtime.reset()
