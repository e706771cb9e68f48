"""What botocore and moto work out afresh for every session or request, worked out once per sandbox process.

Every botocore session parses the JSON files it needs and lists the data directories afresh: endpoints.json
alone takes about 65 ms, a listing about 20 ms, and a sandbox holds half a dozen sessions (moto's region lookups
make their own; ec2 makes three at import). And every client checks each event handler's signature with
inspect, about 0.3 ms a handler, and moto lists a response class's methods on every request. Not gaps but
costs; each canary says when its library stops paying them.
"""

from __future__ import annotations

import functools
import threading
import types
from collections.abc import Callable, Hashable
from typing import Any

from webhookctl.tryit.emulator.probe import Probe


def patch_shared_sdk_data() -> None:
    """One parse per file, one listing per search path, one signature check per function, per process. botocore
    already hands a session's loaded data to every client as shared and read-only (bar the one edit
    _own_http_traits keeps to its client), so sharing it between sessions changes no answer; the data files do
    not change while the sandbox runs."""
    import botocore.hooks
    from botocore.loaders import JSONFileLoader, Loader

    JSONFileLoader.load_file = _once_per(JSONFileLoader.load_file, lambda loader: ())
    for name in ("load_data_with_path", "list_available_services", "list_api_versions"):
        setattr(Loader, name, _once_per(getattr(Loader, name), lambda loader: tuple(loader.search_paths)))
    botocore.hooks.accepts_kwargs = _signature_checked_once(botocore.hooks.accepts_kwargs)
    _own_http_traits()


def _own_http_traits() -> None:
    """Each operation model gets a copy of its (flat) http dict, the one part of the data botocore edits."""
    from botocore.model import OperationModel

    original = OperationModel.__init__

    # botocore's S3 client strips "/{Bucket}" from its operations' requestUri in place (handlers.
    # remove_bucket_from_url_paths_from_model); shared, that reached moto, which since 5.2.6 routes S3 requests
    # by those URIs too (werkzeug: "URL rule '' must start with a slash").
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.http = dict(self.http)

    OperationModel.__init__ = __init__


def _once_per(method: Callable[..., Any], scope: Callable[[Any], Hashable]) -> Callable[..., Any]:
    """METHOD, remembered process-wide by its arguments within scope(self)."""
    results: dict[Hashable, Any] = {}
    lock = threading.Lock()

    @functools.wraps(method)
    def remembered(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (scope(self), args, tuple(sorted(kwargs.items())))
        with lock:
            if key not in results:
                results[key] = method(self, *args, **kwargs)
            return results[key]

    return remembered


def _signature_checked_once(accepts_kwargs: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """accepts_kwargs, remembered for plain functions and methods (bound anew each time, so keyed by their
    function); anything else is checked every time, so nothing short-lived is kept alive."""
    known: dict[types.FunctionType, bool] = {}

    @functools.wraps(accepts_kwargs)
    def checked(func: Any) -> bool:
        target = func.__func__ if isinstance(func, types.MethodType) else func
        if not isinstance(target, types.FunctionType):
            return accepts_kwargs(func)
        if target not in known:
            known[target] = accepts_kwargs(func)
        return known[target]

    return checked


def each_session_parses_the_sdk_data(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): two sessions' endpoint data are two parses of one file."""
    import botocore.session

    first, second = (botocore.session.Session().get_component("data_loader").load_data("endpoints")
                     for _ in range(2))
    return first is not second


def patch_cached_action_names() -> None:
    """moto finds the method for each request's action by listing its response class's functions with
    inspect.getmembers, on every request: a twentieth of the sandbox's CPU. The list is kept per class, and
    made again if a class in its MRO gains or loses an attribute (a patch adding an action, say)."""
    from moto.core import responses

    listed = responses.method_names_from_class
    known: dict[type, tuple[int, list[str]]] = {}

    @functools.wraps(listed)
    def method_names_from_class(clazz: type) -> list[str]:
        shape = sum(len(vars(klass)) for klass in clazz.__mro__)
        if known.get(clazz, (None,))[0] != shape:
            known[clazz] = (shape, listed(clazz))
        return known[clazz][1]

    responses.method_names_from_class = method_names_from_class


def each_request_lists_the_response_methods(aws: Probe) -> bool:
    """Structural (a cost, not a behaviour): a second identical request lists its response class's members
    again."""
    import inspect
    from unittest import mock

    sqs = aws.client("sqs")
    sqs.list_queues()
    with mock.patch.object(inspect, "getmembers", side_effect=inspect.getmembers) as listed:
        sqs.list_queues()
    return listed.call_count > 0
