"""Task runners (like `prefect.task_runners`): where submitted task runs execute."""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tether.futures import TetherFuture
from tether.states import State

if TYPE_CHECKING:
    from tether._dask_runner import DaskTaskRunner


class TaskRunner:
    """Runs task runs submitted in a flow. A runner starts with its flow run and stops with it."""

    def duplicate(self) -> TaskRunner:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        raise NotImplementedError

    def submit(
        self, task_run_id: str, call: Callable[[], State], wait_for: Iterable[TetherFuture[Any]] = ()
    ) -> TetherFuture[Any]:
        raise NotImplementedError


class ThreadPoolTaskRunner(TaskRunner):
    """Runs task runs in a pool of threads (the default).

    A task run whose upstream futures are not done yet is queued only once they are, so it
    never holds a thread while it waits: a deep graph cannot starve the pool.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        env = os.environ.get("TETHER_TASK_RUNNER_THREAD_POOL_MAX_WORKERS")
        self.max_workers = max_workers or (int(env) if env else min(32, (os.cpu_count() or 1) + 4))
        self._executor: cf.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def duplicate(self) -> ThreadPoolTaskRunner:
        return type(self)(max_workers=self.max_workers)

    def start(self) -> None:
        pass  # threads start on the first submission: a flow that submits nothing pays nothing

    def _pool(self) -> cf.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = cf.ThreadPoolExecutor(self.max_workers, thread_name_prefix="tether-task")
            return self._executor

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def submit(
        self, task_run_id: str, call: Callable[[], State], wait_for: Iterable[TetherFuture[Any]] = ()
    ) -> TetherFuture[Any]:
        context = contextvars.copy_context()
        upstream = [future for future in wait_for if not future.done()]
        if not upstream:
            return TetherFuture(task_run_id, self._pool().submit(context.run, call))
        outer: cf.Future[State] = cf.Future()
        remaining = [len(upstream)]
        lock = threading.Lock()

        def start_when_ready(_: TetherFuture[Any]) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            inner = self._pool().submit(context.run, call)
            inner.add_done_callback(lambda done: _chain(done, outer))

        for future in upstream:
            future.add_done_callback(start_when_ready)
        return TetherFuture(task_run_id, outer)


def _chain(source: cf.Future[State], target: cf.Future[State]) -> None:
    error = source.exception()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())


__all__ = ["DaskTaskRunner", "TaskRunner", "ThreadPoolTaskRunner"]


def __getattr__(name: str) -> Any:
    # distributed is heavy (seconds to import): only flows that use Dask pay for it.
    if name == "DaskTaskRunner":
        from tether._dask_runner import DaskTaskRunner

        return DaskTaskRunner
    raise AttributeError(f"module 'tether.task_runners' has no attribute {name!r}")
