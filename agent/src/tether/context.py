"""The run context: which flow run and task run the current code runs in (like `prefect.context`)."""

from __future__ import annotations

import itertools
import threading
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether._api import Client
    from tether._reporter import Reporter
    from tether.flows import Flow
    from tether.futures import TetherFuture
    from tether.results import ResultStore
    from tether.task_runners import TaskRunner
    from tether.tasks import Task


@dataclass
class FlowRun:
    """What a flow run's hooks and logs see of it."""

    id: str
    name: str
    flow_name: str
    parameters: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    run_count: int = 1
    parent_task_run_id: str | None = None
    deployment_id: str | None = None


@dataclass
class TaskRun:
    """What a task run's hooks and logs see of it."""

    id: str
    name: str
    task_key: str
    flow_run_id: str | None
    tags: list[str] = field(default_factory=list)
    run_count: int = 0


@dataclass
class FlowRunContext:
    flow: Flow[..., Any]
    flow_run: FlowRun
    client: Client | None
    reporter: Reporter | None
    task_runner: TaskRunner
    result_store: ResultStore
    parameters: dict[str, Any]
    log_prints: bool = False
    epoch: int | None = None
    log_source: str = field(default_factory=lambda: f"sdk-{uuid.uuid4().hex[:12]}")
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _seq_lock: threading.Lock = field(default_factory=threading.Lock)
    futures: list[TetherFuture[Any]] = field(default_factory=list)
    task_name_counts: dict[str, itertools.count[int]] = field(default_factory=dict)
    # Pauses are numbered in call order, so a suspended run that starts again finds its answers.
    pause_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_seq(self) -> int:
        with self._seq_lock:
            return next(self._seq)

    def task_run_name(self, task_name: str) -> str:
        counter = self.task_name_counts.setdefault(task_name, itertools.count())
        return f"{task_name}-{next(counter)}"


@dataclass
class TaskRunContext:
    task: Task[..., Any]
    task_run: TaskRun
    parameters: dict[str, Any]
    log_prints: bool = False


flow_run_context: ContextVar[FlowRunContext | None] = ContextVar("tether_flow_run", default=None)
task_run_context: ContextVar[TaskRunContext | None] = ContextVar("tether_task_run", default=None)


def get_run_context() -> FlowRunContext | TaskRunContext:
    """The innermost run context; raises `RuntimeError` outside a flow or task."""
    task_ctx = task_run_context.get()
    if task_ctx is not None:
        return task_ctx
    flow_ctx = flow_run_context.get()
    if flow_ctx is not None:
        return flow_ctx
    raise RuntimeError("No run context: call this from inside a flow or a task.")


__all__ = ["FlowRun", "FlowRunContext", "TaskRun", "TaskRunContext", "get_run_context"]
