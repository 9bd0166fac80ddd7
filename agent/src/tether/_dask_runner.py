"""`DaskTaskRunner`: task runs on a Dask cluster (`pip install 'tether[dask]'`); distributed is imported lazily.

Reports travel back with results. A task run executes on a Dask worker that may be in another
process or on another machine, with no route to the control plane and no credentials. There it
runs under a recording reporter: its states and log lines are collected and returned with its
final state. The flow's process, which holds the run's credentials and its reporter, forwards
them: the states keep the client timestamps taken on the worker, and the log lines are renumbered
into the flow run's own `seq` sequence. So the server sees what a thread-pool run would report,
only later: a Dask task run appears when it finishes. A worker that dies mid-task leaves no
report, and the flow's process then reports the task run CRASHED.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import importlib
import inspect
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tether._reporter import Reporter
from tether.context import FlowRun, FlowRunContext, flow_run_context
from tether.futures import TetherFuture
from tether.states import Crashed, State
from tether.task_runners import TaskRunner, ThreadPoolTaskRunner

if TYPE_CHECKING:
    from tether._task_engine import TaskCall
    from tether.flows import Flow
    from tether.results import ResultStore

_logger = logging.getLogger("tether.task_runners")


class ResolvedFuture(TetherFuture[Any]):
    """An upstream task run that has finished, as it travels to a worker: its id and its final state."""

    def __init__(self, task_run_id: str, state: State) -> None:
        done: cf.Future[State] = cf.Future()
        done.set_result(state)
        super().__init__(task_run_id, done)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ResolvedFuture, (self.task_run_id, self.wrapped_future.result()))


class RecordingReporter(Reporter):
    """The reporter of a task run on a worker: keeps what it is given, for the flow's process to send."""

    def __init__(self) -> None:
        # No Reporter.__init__: a worker has no client, nothing leaves it by itself.
        self.task_entries: list[dict[str, Any]] = []
        self.log_lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def report_task_run(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.task_entries.append(entry)

    def report_log(self, line: dict[str, Any]) -> None:
        with self._lock:
            self.log_lines.append(line)

    def flush(self, timeout: float = 30.0) -> None:
        return None

    def close(self, timeout: float = 30.0) -> None:
        return None


@dataclass
class RemoteTaskCall:
    """What a worker needs to run one task run: the call (upstreams resolved) and its flow run's context."""

    call: TaskCall
    flow: Flow[..., Any]
    flow_run: FlowRun
    parameters: dict[str, Any]
    log_prints: bool
    result_store: ResultStore


@dataclass
class RemoteOutcome:
    state: State
    task_entries: list[dict[str, Any]]
    log_lines: list[dict[str, Any]]


def run_on_worker(remote: RemoteTaskCall) -> RemoteOutcome:
    """Run one task run on a Dask worker, recording its reports."""
    from tether.logging import setup_logging

    setup_logging()
    recorder = RecordingReporter()
    ctx = FlowRunContext(
        flow=remote.flow,
        flow_run=remote.flow_run,
        client=None,
        reporter=recorder,
        task_runner=ThreadPoolTaskRunner(),
        result_store=remote.result_store,
        parameters=remote.parameters,
        log_prints=remote.log_prints,
    )
    token = flow_run_context.set(ctx)
    try:
        state = remote.call()
    finally:
        flow_run_context.reset(token)
        ctx.task_runner.shutdown()
    return RemoteOutcome(state=state, task_entries=recorder.task_entries, log_lines=recorder.log_lines)


def _default_cluster_kwargs() -> dict[str, Any]:
    # In-process workers are light on small machines; pass cluster_kwargs for processes.
    return {"processes": False, "n_workers": 1, "threads_per_worker": min(32, (os.cpu_count() or 1) + 4)}


class DaskTaskRunner(TaskRunner):
    """Runs submitted task runs on Dask: a new `distributed.LocalCluster` per flow run by default,
    or the scheduler at `address`.

    The arguments mirror `prefect_dask.DaskTaskRunner`: `cluster_class` (a class or its dotted
    path), `cluster_kwargs`, `adapt_kwargs` (calls `cluster.adapt(**adapt_kwargs)`),
    `client_kwargs` and `address`. The cluster starts on the first submission and stops with the
    flow run (a cluster at `address` keeps running).
    """

    def __init__(
        self,
        cluster_class: str | Callable[..., Any] | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        adapt_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> None:
        if address is not None and (cluster_class is not None or cluster_kwargs or adapt_kwargs):
            raise ValueError("Give either address= or a cluster to create (cluster_class/kwargs), not both.")
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs) if cluster_kwargs is not None else None
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self.address = address
        self._lock = threading.Lock()
        self._client: Any = None
        self._cluster: Any = None
        self._pending: set[cf.Future[State]] = set()

    def __getstate__(self) -> dict[str, Any]:
        # A flow pickled by value (defined in __main__) carries its runner's settings, never a live cluster.
        return {
            "cluster_class": self.cluster_class,
            "cluster_kwargs": self.cluster_kwargs,
            "adapt_kwargs": self.adapt_kwargs,
            "client_kwargs": self.client_kwargs,
            "address": self.address,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def duplicate(self) -> DaskTaskRunner:
        return DaskTaskRunner(
            cluster_class=self.cluster_class,
            cluster_kwargs=self.cluster_kwargs,
            adapt_kwargs=self.adapt_kwargs or None,
            client_kwargs=self.client_kwargs or None,
            address=self.address,
        )

    def start(self) -> None:
        self._dask_client()

    @property
    def client(self) -> Any:
        """The `distributed.Client` (started on first use)."""
        return self._dask_client()

    def _dask_client(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
            from distributed import Client, LocalCluster

            if self.address is not None:
                self._client = Client(self.address, **self.client_kwargs)  # type: ignore[no-untyped-call]
                return self._client
            cluster_class: Any = self.cluster_class or LocalCluster
            if isinstance(cluster_class, str):
                module_name, _, name = cluster_class.rpartition(".")
                cluster_class = getattr(importlib.import_module(module_name), name)
            kwargs = self.cluster_kwargs if self.cluster_kwargs is not None else _default_cluster_kwargs()
            if cluster_class is LocalCluster:
                kwargs = {"dashboard_address": ":0", **kwargs}
            self._cluster = cluster_class(**kwargs)
            if self.adapt_kwargs:
                self._cluster.adapt(**self.adapt_kwargs)
            self._client = Client(self._cluster, **self.client_kwargs)  # type: ignore[no-untyped-call]
            return self._client

    def shutdown(self) -> None:
        with self._lock:
            pending = list(self._pending)
        cf.wait(pending)
        with self._lock:
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        if client is not None:
            with contextlib.suppress(Exception):  # a cluster that is already gone has nothing to close
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()

    def submit(
        self, task_run_id: str, call: Callable[[], State], wait_for: Iterable[TetherFuture[Any]] = ()
    ) -> TetherFuture[Any]:
        from tether._task_engine import TaskCall

        if not isinstance(call, TaskCall):
            raise TypeError("DaskTaskRunner runs task runs submitted with Task.submit() or Task.map().")
        flow_ctx = flow_run_context.get()
        if flow_ctx is None:
            raise RuntimeError("DaskTaskRunner runs the task runs of a flow run: submit them inside a flow.")
        outer: cf.Future[State] = cf.Future()
        with self._lock:
            self._pending.add(outer)
        outer.add_done_callback(self._forget)
        upstream = [future for future in wait_for if not future.done()]
        remaining = [len(upstream)]
        lock = threading.Lock()

        def start_when_ready(_: TetherFuture[Any] | None = None) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0] > 0:
                    return
            try:
                self._send(call, flow_ctx, outer)
            except BaseException as exc:  # noqa: BLE001 - whatever stops the hand-over crashes this task run
                self._crash(call, flow_ctx, outer, exc)

        if not upstream:
            remaining[0] = 1
            start_when_ready()
        else:
            for future in upstream:
                future.add_done_callback(start_when_ready)
        return TetherFuture(task_run_id, outer)

    def _forget(self, future: cf.Future[State]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _send(self, call: TaskCall, flow_ctx: FlowRunContext, outer: cf.Future[State]) -> None:
        resolved = replace(
            call,
            bound=inspect.BoundArguments(call.bound.signature, OrderedDict(_resolved(call.bound.arguments))),
            wait_for=[ResolvedFuture(f.task_run_id, f.wrapped_future.result()) for f in call.wait_for],
        )
        remote = RemoteTaskCall(
            call=resolved,
            flow=flow_ctx.flow,
            flow_run=flow_ctx.flow_run,
            parameters=flow_ctx.parameters,
            log_prints=flow_ctx.log_prints,
            result_store=flow_ctx.result_store,
        )
        key = f"{call.task.name}-{call.task_run_id}"
        dask_future = self._dask_client().submit(run_on_worker, remote, pure=False, key=key)

        def settle(done: Any) -> None:
            try:
                outcome: RemoteOutcome = done.result()
            except BaseException as exc:  # noqa: BLE001 - a lost worker or an unpicklable value
                self._crash(call, flow_ctx, outer, exc)
                return
            try:
                self._forward(outcome, flow_ctx)
            finally:
                outer.set_result(outcome.state)

        dask_future.add_done_callback(settle)

    @staticmethod
    def _forward(outcome: RemoteOutcome, flow_ctx: FlowRunContext) -> None:
        """Hand a task run's reports to the flow's reporter (log lines join the run's own numbering)."""
        if flow_ctx.reporter is None:
            return
        for entry in outcome.task_entries:
            flow_ctx.reporter.report_task_run(entry)
        for line in outcome.log_lines:
            line["source"] = flow_ctx.log_source
            line["seq"] = flow_ctx.next_seq()
            flow_ctx.reporter.report_log(line)

    @staticmethod
    def _crash(call: TaskCall, flow_ctx: FlowRunContext, outer: cf.Future[State], exc: BaseException) -> None:
        message = f"Task run crashed on Dask: {type(exc).__name__}: {exc}"
        _logger.error("%s", message)
        state = Crashed(message=message, data=exc)
        if flow_ctx.reporter is not None:
            flow_ctx.reporter.report_task_run(
                {
                    "id": call.task_run_id,
                    "flow_run_id": flow_ctx.flow_run.id,
                    "name": (call.task_run_name or call.task.name)[:255],
                    "task_key": call.task.task_key,
                    "tags": sorted(call.task.tags),
                    "max_retries": min(call.task.retries, 1000),
                    "state": state.to_api(),
                }
            )
        if not outer.done():
            outer.set_result(state)


def _resolved(arguments: dict[str, Any]) -> dict[str, Any]:
    """Futures among the arguments become ResolvedFutures: the engine on the worker sees finished upstreams."""
    from tether.futures import TetherFuture

    def swap(value: Any) -> Any:
        if isinstance(value, TetherFuture):
            return ResolvedFuture(value.task_run_id, value.wrapped_future.result())
        if isinstance(value, list):
            return [swap(item) for item in value]
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return tuple(swap(item) for item in value)
        if isinstance(value, set | frozenset):
            return type(value)(swap(item) for item in value)
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        return value

    return {name: swap(value) for name, value in arguments.items()}


__all__ = ["DaskTaskRunner"]
