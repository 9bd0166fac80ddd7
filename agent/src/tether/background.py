"""Background tasks: `my_task.delay(...)` queues a task run; `tether task-worker serve` runs it.

The arguments are written to the caller's result storage (the task's `result_storage`, else
`TETHER_RESULTS_DIR` or `~/.tether/storage`) and the control plane only receives their key,
so the hybrid promise holds: argument values never reach the server. Small JSON arguments may
be sent as visible metadata instead (`apply_async(..., parameters_as_metadata=True)`). The
worker reads the arguments from, and writes the result to, the same storage: callers and
workers on different hosts need shared storage (an `s3://…` URL, a shared volume).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tether.exceptions import TetherException
from tether.results import ResultStore, default_result_store

if TYPE_CHECKING:
    from tether._api import Client
    from tether.tasks import Task

ARGUMENTS_KEY_PREFIX = "bg-args-"
RESULT_KEY_PREFIX = "bg-result-"
FINAL_TYPES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
_POLL_FIRST, _POLL_MAX = 0.05, 1.0

_clients: dict[tuple[str, str | None], Client] = {}
_clients_lock = threading.Lock()


class BackgroundTaskFailed(TetherException):
    """The background task run ended FAILED, CRASHED or CANCELLED; `state` is its final state."""

    def __init__(self, message: str, state: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.state = dict(state)


def _client() -> Client:
    """One client per process and configuration: a web app queuing many tasks reuses its connections."""
    from tether._api import Client

    url, key = os.environ.get("TETHER_API_URL"), os.environ.get("TETHER_API_KEY")
    if not url:
        raise RuntimeError("task.delay() needs TETHER_API_URL (the workspace API URL) and TETHER_API_KEY.")
    with _clients_lock:
        client = _clients.get((url, key))
        if client is None:
            client = _clients[(url, key)] = Client(url, key)
        return client


def storage_of(task: Task[..., Any]) -> ResultStore:
    """Where a background run of `task` keeps its arguments and result."""
    storage = task.result_storage
    if isinstance(storage, ResultStore):
        return storage
    if isinstance(storage, str):
        return ResultStore(storage, serializer=task.result_serializer or "pickle")
    return default_result_store()


def _scheduled(value: _dt.datetime | _dt.timedelta | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        value = _dt.datetime.now(_dt.UTC) + value
    if value.tzinfo is None:
        raise ValueError("scheduled_time must be timezone-aware (or a timedelta from now).")
    return value.isoformat()


def apply_async(
    task: Task[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    scheduled_time: _dt.datetime | _dt.timedelta | None = None,
    idempotency_key: str | None = None,
    parameters_as_metadata: bool = False,
) -> BackgroundTaskFuture:
    """Queue a background run of `task`; returns its future at once.

    `scheduled_time`: an aware datetime, or a timedelta from now. `idempotency_key`: the same
    key queues one run (the same call returns its future). `parameters_as_metadata`: send the
    arguments as visible JSON parameters instead of by reference (they must be small JSON).
    """
    args, kwargs = list(args), dict(kwargs or {})
    task.signature.bind(*args, **kwargs)  # a wrong call fails here, not on a worker later
    store = storage_of(task)
    body: dict[str, Any] = {
        "task_key": task.task_key,
        "name": task.name[:255],
        "tags": sorted(task.tags),
        "max_retries": min(task.retries, 1000),
        "result_storage": store.location,
    }
    if parameters_as_metadata:
        try:
            json.dumps({"args": args, "kwargs": kwargs})
        except (TypeError, ValueError) as exc:
            raise TypeError(f"parameters_as_metadata needs JSON arguments: {exc}") from None
        body["parameters"] = {"args": args, "kwargs": kwargs}
    else:
        key = f"{ARGUMENTS_KEY_PREFIX}{uuid.uuid4().hex}"
        store.write(key, {"args": args, "kwargs": kwargs})
        body["parameters_ref"] = key
    if (when := _scheduled(scheduled_time)) is not None:
        body["scheduled_time"] = when
    if idempotency_key:
        body["idempotency_key"] = idempotency_key
    client = _client()
    created = client.post("background-tasks/", body)
    return BackgroundTaskFuture(str(created["id"]), store=store, client=client, state=created["state"])


def delay(task: Task[..., Any], *args: Any, **kwargs: Any) -> BackgroundTaskFuture:
    return apply_async(task, args, kwargs)


class BackgroundTaskFuture:
    """The caller's handle on a background task run: `.wait()`, `.result()`, `.state`."""

    def __init__(
        self, task_run_id: str, *, store: ResultStore, client: Client, state: Mapping[str, Any] | None = None
    ) -> None:
        self.task_run_id = task_run_id
        self._store = store
        self._client = client
        self._state: dict[str, Any] = dict(state or {})

    def __repr__(self) -> str:
        return f"BackgroundTaskFuture({self.task_run_id!r}, state={self._state.get('type')!r})"

    @property
    def state(self) -> dict[str, Any]:
        """The run's state as last seen (`.refresh()` asks the control plane again)."""
        return self._state

    def refresh(self) -> dict[str, Any]:
        run = self._client.get(f"background-tasks/{self.task_run_id}/")
        self._state = dict(run["state"])
        return self._state

    def done(self) -> bool:
        return self._state.get("type") in FINAL_TYPES or self.refresh().get("type") in FINAL_TYPES

    def wait(self, timeout: float | None = None) -> dict[str, Any] | None:
        """Wait until the run is final (or `timeout` seconds pass); returns its final state, or None."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _POLL_FIRST
        while not self.done():
            if deadline is not None and time.monotonic() >= deadline:
                return None
            wait = pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic()))
            time.sleep(wait)
            pause = min(_POLL_MAX, pause * 1.5)
        return self._state

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        """The task's return value, read from result storage; raises `BackgroundTaskFailed` if it failed.

        Raises `TimeoutError` when the run is not final within `timeout` seconds.
        """
        state = self.wait(timeout)
        if state is None:
            raise TimeoutError(f"Background task run {self.task_run_id} is not finished after {timeout}s.")
        if state["type"] != "COMPLETED":
            message = f"Task run {self.task_run_id} ended {state['name']}: {state['message']}"
            error = BackgroundTaskFailed(message, state)
            if raise_on_failure:
                raise error
            return error
        key = (state.get("details") or {}).get("result_key")
        if not key:
            return None
        record = self._store.read(str(key))
        if record is None:
            raise BackgroundTaskFailed(
                f"Task run {self.task_run_id} completed, but its result {key!r} is not in {self._store.location}: "
                "do the caller and the worker share result storage?",
                state,
            )
        return record.value


__all__ = ["BackgroundTaskFailed", "BackgroundTaskFuture", "apply_async", "delay"]
