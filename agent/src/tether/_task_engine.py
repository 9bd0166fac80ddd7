"""Running one task run: inputs, cache, attempts with retries and timeouts, reports, hooks.

The hot path stays cheap: no round trip, just two entries handed to the background reporter
(RUNNING, then the final state), with a client-chosen id.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tether._timeouts import Interrupted, sync_timeout
from tether.cache_policies import NONE
from tether.context import FlowRunContext, TaskRun, TaskRunContext, flow_run_context, task_run_context
from tether.exceptions import TaskRunTimeoutError, UpstreamTaskError
from tether.futures import TetherFuture, collect_futures, resolve_futures_to_states
from tether.results import ResultStore, default_result_store
from tether.states import AwaitingRetry, Cached, Completed, Crashed, Failed, Pending, Retrying, Running, State
from tether.task_runners import ThreadPoolTaskRunner
from tether.utilities.annotations import quote, unmapped

if TYPE_CHECKING:
    from tether.tasks import Task

_logger = logging.getLogger("tether.task_runs")
_fallback_runner: ThreadPoolTaskRunner | None = None


def _exception_message(exc: BaseException) -> str:
    return f"Task run encountered an exception {type(exc).__name__}: {exc}"


class TaskRunEngine:
    def __init__(
        self,
        task: Task[..., Any],
        bound: inspect.BoundArguments,
        *,
        task_run_id: str | None = None,
        wait_for: Iterable[TetherFuture[Any]] | None = None,
        task_run_name: str | None = None,
    ) -> None:
        self.task = task
        self.bound = bound
        self.wait_for = list(wait_for or [])
        self.flow_ctx: FlowRunContext | None = flow_run_context.get()
        self.reporter = self.flow_ctx.reporter if self.flow_ctx else None
        flow_run_id = self.flow_ctx.flow_run.id if self.flow_ctx else None
        self.run = TaskRun(
            id=task_run_id or str(uuid.uuid4()),
            name=task_run_name or self._run_name(),
            task_key=task.task_key,
            flow_run_id=flow_run_id,
            tags=sorted(task.tags),
        )
        self.reported_once = False
        # Before inputs are resolved: which upstream task runs feed this one (the UI's graph).
        self.task_inputs = self._task_inputs() if self.reporter is not None else {}
        self.cache_key: str | None = None
        self.delays: list[float] = []
        self.state: State = Pending()
        self.log_prints = (
            task.log_prints if task.log_prints is not None else bool(self.flow_ctx and self.flow_ctx.log_prints)
        )

    def _run_name(self) -> str:
        custom = self.task.task_run_name
        if custom is not None:
            try:
                return custom() if callable(custom) else custom.format(**self.bound.arguments)
            except Exception:  # noqa: BLE001 - a bad name template falls back to the default name
                _logger.warning("Task run name %r could not be formatted.", custom)
        if self.flow_ctx is not None:
            return self.flow_ctx.task_run_name(self.task.name)
        return self.task.name

    # --- reporting ---

    def _report(self, state: State) -> None:
        self.state = state
        if self.reporter is None:
            return
        entry: dict[str, Any] = {"id": self.run.id, "state": state.to_api()}
        if not self.reported_once:
            self.reported_once = True
            entry.update(
                flow_run_id=self.run.flow_run_id,
                name=self.run.name[:255],
                task_key=self.task.task_key,
                tags=self.run.tags,
                max_retries=min(self.task.retries, 1000),
            )
            if self.task_inputs:
                entry["task_inputs"] = self.task_inputs
            if self.cache_key:
                entry["cache_key"] = self.cache_key[:255]
        self.reporter.report_task_run(entry)

    def _task_inputs(self) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for name, value in self.bound.arguments.items():
            found: list[TetherFuture[Any]] = []
            collect_futures(value, found)
            if found:
                inputs[name] = [{"input_type": "task_run", "id": f.task_run_id} for f in found]
        if self.wait_for:
            inputs["wait_for"] = [{"input_type": "task_run", "id": f.task_run_id} for f in self.wait_for]
        return inputs

    def _log(self, level: int, message: str, *args: Any) -> None:
        if _logger.isEnabledFor(level):
            _logger.log(
                level,
                message,
                *args,
                extra={
                    "flow_run_id": self.run.flow_run_id,
                    "task_run_id": self.run.id,
                    "run_label": f"Task run {self.run.name!r}",
                },
            )

    # --- the steps ---

    def begin(self) -> State | None:
        """Resolve inputs and look up the cache. A state returned here is final: the task does not run."""
        upstream = [*self.wait_for]
        for value in self.bound.arguments.values():
            collect_futures(value, upstream)
        if upstream:
            for future in upstream:
                state = future.wrapped_future.result()
                if not state.is_completed():
                    message = f"Upstream task run '{future.task_run_id}' did not reach a 'COMPLETED' state."
                    error = UpstreamTaskError(message)
                    not_ready = Pending(name="NotReady", message=message, data=error)
                    self._report(not_ready)
                    self._log(logging.INFO, "Not run: %s", message)
                    return not_ready
            for name, value in self.bound.arguments.items():
                self.bound.arguments[name] = _unwrap(resolve_futures_to_states(value), as_results=True)
        else:
            for name, value in self.bound.arguments.items():
                if isinstance(value, quote | unmapped):
                    self.bound.arguments[name] = value.value
        self.delays = _delays(self.task)
        policy = self.task.cache_policy
        if policy is not None and policy is not NONE:
            ctx = TaskRunContext(task=self.task, task_run=self.run, parameters=dict(self.bound.arguments))
            flow_parameters = self.flow_ctx.parameters if self.flow_ctx else {}
            try:
                self.cache_key = policy.compute_key(ctx, dict(self.bound.arguments), flow_parameters)
            except Exception:  # noqa: BLE001 - a failing cache key function means no caching, as in Prefect
                _logger.warning("The cache key of task %r could not be computed; not caching.", self.task.name)
                self.cache_key = None
            if self.cache_key and not self.task.refresh_cache:
                record = self._store().read(self.cache_key)
                if record is not None and not record.expired():
                    cached = Cached(
                        data=record.value, details={"cache_key": self.cache_key, "result_key": self.cache_key}
                    )
                    self._report(cached)
                    self._log(logging.INFO, "Finished in state %r (cache hit)", cached)
                    self._hooks(cached)
                    return cached
        # --- tag concurrency limits (tether.concurrency._tags): hold their slots while RUNNING ---
        if self.run.tags and self.reporter is not None:
            from tether.concurrency._tags import guard_tag_limits

            aborted = guard_tag_limits(self)
            if aborted is not None:
                self._report(aborted)
                return aborted
        return None

    def _store(self) -> ResultStore:
        storage = self.task.result_storage
        if isinstance(storage, ResultStore):
            return storage
        if isinstance(storage, str):
            return ResultStore(storage, serializer=self.task.result_serializer or "pickle")
        if self.flow_ctx is not None:
            return self.flow_ctx.result_store
        return default_result_store()

    def start_attempt(self) -> TaskRunContext:
        self.run.run_count += 1
        self._report(Running() if self.run.run_count == 1 else Retrying())
        if self.log_prints:
            from tether.logging import capture_prints

            capture_prints()
        return TaskRunContext(
            task=self.task, task_run=self.run, parameters=dict(self.bound.arguments), log_prints=self.log_prints
        )

    def completed(self, result: Any) -> State:
        details: dict[str, Any] = {}
        if self.cache_key or self.task.persist_result:
            key = self.cache_key or self.task.result_storage_key or self.run.id
            if self.task.result_storage_key and "{" in self.task.result_storage_key:
                key = self.task.result_storage_key.format(parameters=self.bound.arguments, **self.bound.arguments)
            expiration = self.task.cache_expiration
            expires_at = time.time() + expiration.total_seconds() if expiration is not None else None
            try:
                self._store().write(key, result, expires_at=expires_at)
                details["result_key"] = key
            except Exception as exc:  # noqa: BLE001 - an unstorable result fails the run (as Prefect does)
                return self.failed(exc, final=True) or Failed(data=exc)
        state = Completed(data=result, details=details)
        self._report(state)
        self._log(logging.DEBUG, "Finished in state %r", state)
        self._hooks(state)
        return state

    def failed(self, exc: BaseException, *, timed_out: bool = False, final: bool = False) -> State | None:
        """A failed attempt: the final state, or None when a retry follows (after `retry_delay()`)."""
        if timed_out:
            exc = TaskRunTimeoutError(f"Task run exceeded timeout of {self.task.timeout_seconds} second(s)")
        message = _exception_message(exc)
        retries_left = self.run.run_count <= self.task.retries and not final
        if retries_left:
            delay = self.delays[self.run.run_count - 1] if self.delays else 0.0
            due = time.time() + delay
            scheduled = _iso(due)
            self._report(AwaitingRetry(message=message, details={"scheduled_time": scheduled}))
            self._log(
                logging.INFO,
                "%s\nRetry %d/%d will start %s",
                message,
                self.run.run_count,
                self.task.retries,
                f"{delay:g} second(s) from now" if delay else "immediately",
            )
            self._retry_delay = delay
            return None
        trace = "".join(traceback.format_exception(exc))
        self._log(logging.ERROR, "%s\n%s", message, trace.rstrip())
        name = "TimedOut" if timed_out else "Failed"
        state = Failed(name=name, message=message, data=exc, details={"retriable": False})
        self._report(state)
        self._hooks(state)
        return state

    _retry_delay: float = 0.0

    def crashed(self, exc: BaseException) -> None:
        state = Crashed(message=f"Task run crashed: {type(exc).__name__}: {exc}", data=exc)
        self._report(state)

    def _hooks(self, state: State) -> None:
        if state.is_completed() and (self.task.on_rollback_hooks or self.task.on_commit_hooks):
            from tether.transactions import get_transaction

            txn = get_transaction()
            if txn is not None:
                txn.stage(self.task, self.run, state)
        hooks = self.task.on_completion_hooks if state.is_completed() else self.task.on_failure_hooks
        for hook in hooks:
            try:
                hook(self.task, self.run, state)
            except Exception:  # noqa: BLE001 - a failing hook is logged, it does not change the state
                self._log(logging.ERROR, "Hook %r failed:\n%s", getattr(hook, "__name__", hook), traceback.format_exc())


def _delays(task: Task[..., Any]) -> list[float]:
    from tether.tasks import retry_delays

    return retry_delays(task.retry_delay_seconds, task.retries, task.retry_jitter_factor)


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def _unwrap(value: Any, *, as_results: bool) -> Any:
    """After futures were replaced by states: states → their results; quote/unmapped → their value."""
    if isinstance(value, State):
        return value.result()
    if isinstance(value, quote | unmapped):
        return value.value
    if isinstance(value, list):
        return [_unwrap(item, as_results=as_results) for item in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_unwrap(item, as_results=as_results) for item in value)
    if isinstance(value, dict):
        return {key: _unwrap(item, as_results=as_results) for key, item in value.items()}
    return value


def _finish(state: State, return_type: str) -> Any:
    return state if return_type == "state" else state.result()


def run_task_sync(
    task: Task[..., Any],
    bound: inspect.BoundArguments,
    *,
    task_run_id: str | None = None,
    wait_for: Iterable[TetherFuture[Any]] | None = None,
    return_type: str = "result",
    task_run_name: str | None = None,
) -> Any:
    engine = TaskRunEngine(task, bound, task_run_id=task_run_id, wait_for=wait_for, task_run_name=task_run_name)
    final = engine.begin()
    if final is not None:
        return _finish(final, return_type)
    while True:
        ctx = engine.start_attempt()
        token = task_run_context.set(ctx)
        try:
            with sync_timeout(task.timeout_seconds) as interrupt:
                result = task.fn(*bound.args, **bound.kwargs)
        except Interrupted as exc:
            if interrupt is None or not isinstance(exc, interrupt):
                engine.crashed(exc)
                raise
            state = engine.failed(exc, timed_out=True)
        except Exception as exc:  # noqa: BLE001 - the task's failure becomes its state
            state = engine.failed(exc)
        except BaseException as exc:
            engine.crashed(exc)
            raise
        else:
            state = engine.completed(result)
        finally:
            task_run_context.reset(token)
        if state is not None:
            return _finish(state, return_type)
        if engine._retry_delay:
            time.sleep(engine._retry_delay)


async def run_task_async(
    task: Task[..., Any],
    bound: inspect.BoundArguments,
    *,
    task_run_id: str | None = None,
    wait_for: Iterable[TetherFuture[Any]] | None = None,
    return_type: str = "result",
    task_run_name: str | None = None,
) -> Any:
    engine = TaskRunEngine(task, bound, task_run_id=task_run_id, wait_for=wait_for, task_run_name=task_run_name)
    final = engine.begin()
    if final is not None:
        return _finish(final, return_type)
    while True:
        ctx = engine.start_attempt()
        token = task_run_context.set(ctx)
        try:
            coro = task.fn(*bound.args, **bound.kwargs)
            if task.timeout_seconds:
                result = await asyncio.wait_for(coro, task.timeout_seconds)
            else:
                result = await coro
        except TimeoutError as exc:
            state = engine.failed(exc, timed_out=task.timeout_seconds is not None)
        except Exception as exc:  # noqa: BLE001 - the task's failure becomes its state
            state = engine.failed(exc)
        except BaseException as exc:
            engine.crashed(exc)
            raise
        else:
            state = engine.completed(result)
        finally:
            task_run_context.reset(token)
        if state is not None:
            return _finish(state, return_type)
        if engine._retry_delay:
            await asyncio.sleep(engine._retry_delay)


@dataclass
class TaskCall:
    """One submitted task run as a task runner receives it: calling it runs the task run to its final state.

    It holds no closure, so a runner may ship it to another process (Dask) once its upstream
    futures are resolved.
    """

    task: Task[..., Any]
    bound: inspect.BoundArguments
    task_run_id: str
    wait_for: list[TetherFuture[Any]] = field(default_factory=list)
    task_run_name: str | None = None

    def __call__(self) -> State:
        options: dict[str, Any] = {
            "task_run_id": self.task_run_id,
            "wait_for": self.wait_for,
            "return_type": "state",
            "task_run_name": self.task_run_name,
        }
        state: State
        if self.task.isasync:
            state = asyncio.run(run_task_async(self.task, self.bound, **options))
        else:
            state = run_task_sync(self.task, self.bound, **options)
        return state

    def upstream(self) -> list[TetherFuture[Any]]:
        found = [*self.wait_for]
        for value in self.bound.arguments.values():
            collect_futures(value, found)
        return found


def submit_task(
    task: Task[..., Any], bound: inspect.BoundArguments, *, wait_for: Iterable[TetherFuture[Any]] | None = None
) -> TetherFuture[Any]:
    global _fallback_runner
    flow_ctx = flow_run_context.get()
    if flow_ctx is not None:
        runner = flow_ctx.task_runner
    else:
        _fallback_runner = _fallback_runner or ThreadPoolTaskRunner()
        runner = _fallback_runner
    call = TaskCall(task, bound, str(uuid.uuid4()), list(wait_for or []))
    if flow_ctx is not None and task.task_run_name is None:
        # Named in submission order, here: a runner in another process could not count.
        call.task_run_name = flow_ctx.task_run_name(task.name)
    future = runner.submit(call.task_run_id, call, wait_for=call.upstream())
    if flow_ctx is not None:
        flow_ctx.futures.append(future)
    return future
