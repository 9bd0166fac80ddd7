"""Running one flow run: create or adopt it on the server, propose states that gate execution,
run the body with retries and a timeout, wait for its task runs, deliver its reports, run hooks.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any

from tether._api import Client
from tether._parameters import jsonable
from tether._reporter import Reporter
from tether._timeouts import Interrupted, sync_timeout
from tether.context import FlowRun, FlowRunContext, flow_run_context, task_run_context
from tether.exceptions import (
    APIError,
    FlowPauseTimeout,
    FlowRunTimeoutError,
    FlowSuspended,
    ReportNotDelivered,
    TerminationSignal,
    TransitionRefused,
)
from tether.futures import TetherFuture, collect_futures, resolve_futures_to_states
from tether.logging import RunLoggerAdapter, flow_run_logger, setup_logging
from tether.results import ResultStore, default_result_store
from tether.states import (
    AwaitingRetry,
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Paused,
    Retrying,
    Running,
    State,
    StateType,
)

if TYPE_CHECKING:
    from tether.flows import Flow


def final_flush_timeout() -> float:
    return float(os.environ.get("TETHER_FINAL_FLUSH_TIMEOUT", "60"))


_notice_printed = False


def _untracked_notice(flow_name: str) -> None:
    global _notice_printed
    if not _notice_printed:
        _notice_printed = True
        sys.stderr.write(f"tether: TETHER_API_URL is not set; running flow {flow_name!r} locally, untracked.\n")


class FlowRunEngine:
    def __init__(
        self,
        flow: Flow[..., Any],
        bound: inspect.BoundArguments,
        *,
        flow_run: dict[str, Any] | None = None,
        epoch: int | None = None,
        client: Client | None = None,
    ) -> None:
        self.flow = flow
        self.bound = bound
        self.existing = flow_run
        self.epoch = epoch
        self.parent = flow_run_context.get()
        self.parent_task = task_run_context.get()
        if client is None and self.parent is None:
            client = Client.from_env()
            self.owns_client = client is not None
        else:
            self.owns_client = False
        self.client = client if client is not None else (self.parent.client if self.parent else None)
        self.owns_reporter = False
        self.reporter: Reporter | None = None
        self.parent_task_run_id: str | None = None
        self.parameters = dict(bound.arguments)
        self.ctx: FlowRunContext | None = None
        self.logger: RunLoggerAdapter | None = None
        self.retry_delay = 0.0
        self.run_count = 0
        self.finished = False
        # A deployment's run retries in a new process: AwaitingRetry hands it back to its work
        # pool (and ends the run token's lease), and an agent claims it again when it is due.
        self.hands_back_retries = flow_run is not None and bool(flow_run.get("deployment_id"))
        self.handed_back: State | None = None

    # --- start ---

    def begin(self) -> FlowRunContext:
        setup_logging()
        if self.client is None:
            _untracked_notice(self.flow.name)
        elif self.parent is not None and self.parent.reporter is not None:
            self.reporter = self.parent.reporter
        else:
            self.reporter = Reporter(self.client)
            self.owns_reporter = True
        run = self._create_or_adopt()
        log_prints = (
            bool(self.flow.log_prints)
            if self.flow.log_prints is not None
            else bool(self.parent and self.parent.log_prints)
        )
        if log_prints:
            from tether.logging import capture_prints

            capture_prints()
        storage = self.flow.result_storage
        store = (
            storage
            if isinstance(storage, ResultStore)
            else ResultStore(storage, serializer=self.flow.result_serializer or "pickle")
            if isinstance(storage, str)
            else default_result_store()
        )
        self.ctx = FlowRunContext(
            flow=self.flow,
            flow_run=run,
            client=self.client,
            reporter=self.reporter,
            task_runner=self.flow.task_runner.duplicate(),
            result_store=store,
            parameters=self.parameters,
            log_prints=log_prints,
            epoch=self.epoch,
        )
        self.logger = flow_run_logger(run.id, f"Flow run {run.name!r}")
        return self.ctx

    def _run_name(self) -> str | None:
        custom = self.flow.flow_run_name
        if custom is None:
            return None
        try:
            return custom() if callable(custom) else custom.format(**self.parameters)
        except Exception:  # noqa: BLE001 - a bad template falls back to a generated name
            return None

    def _create_or_adopt(self) -> FlowRun:
        tags = sorted(self.flow.tags)
        if self.existing is not None:
            run = self.existing
            return FlowRun(
                id=str(run["id"]),
                name=run.get("name") or "",
                flow_name=self.flow.name,
                parameters=self.parameters,
                tags=list(run.get("tags") or tags),
                deployment_id=run.get("deployment_id"),
            )
        if self.client is None:
            name = self._run_name() or f"{self.flow.name}-{uuid.uuid4().hex[:6]}"
            return FlowRun(
                id=str(uuid.uuid4()), name=name, flow_name=self.flow.name, parameters=self.parameters, tags=tags
            )
        if self.parent is not None:
            self._start_parent_task_run()
        body: dict[str, Any] = {
            "flow_name": self.flow.name,
            "parameters": jsonable(self.parameters),
            "tags": tags,
            "state": Running().to_api(),
            "idempotency_key": f"sdk-{uuid.uuid4()}",  # a retried create must not make two runs
        }
        custom_name = self._run_name()
        if custom_name:
            body["name"] = custom_name[:255]
        if self.parent_task_run_id:
            body["parent_task_run_id"] = self.parent_task_run_id
        created = self.client.create_flow_run(body)
        return FlowRun(
            id=str(created["id"]),
            name=created.get("name", ""),
            flow_name=self.flow.name,
            parameters=self.parameters,
            tags=tags,
            parent_task_run_id=self.parent_task_run_id,
        )

    def _start_parent_task_run(self) -> None:
        """A subflow is a task run of its parent: the server links the child flow run to it."""
        assert self.parent is not None
        assert self.reporter is not None
        self.parent_task_run_id = str(uuid.uuid4())
        self.reporter.report_task_run(
            {
                "id": self.parent_task_run_id,
                "flow_run_id": self.parent.flow_run.id,
                "name": self.parent.task_run_name(self.flow.name)[:255],
                "task_key": f"subflow:{self.flow.name}"[:255],
                "state": Running().to_api(),
            }
        )
        # The child run names this task run as its parent: it must exist on the server first.
        self.reporter.flush(final_flush_timeout())

    def propose(self, state: State) -> State:
        """Propose a flow-run state to the server (a no-op untracked); return what the server decided."""
        if self.client is None or self.ctx is None:
            return state
        result = self.client.set_flow_run_state(self.ctx.flow_run.id, state.to_api(), epoch=self.epoch)
        if result.get("status") == "WAIT":
            raise TransitionRefused("The server kept answering WAIT.", status="WAIT", state=result.get("state"))
        decided = State.from_api(result["state"])
        decided.data = state.data
        return decided

    def start_running(self) -> None:
        """Propose RUNNING for an adopted run (a run created ad hoc starts RUNNING)."""
        assert self.ctx is not None
        if self.existing is None:
            self.run_count = 1
            return
        while True:
            decided = self.propose(Running())
            if decided.type == StateType.RUNNING:
                self.run_count = 1 + self._retries_used()
                return
            if decided.type == StateType.SCHEDULED:
                # e.g. AwaitingConcurrencySlot: come back when it is due.
                time.sleep(min(30.0, max(1.0, _seconds_until(decided.details.get("scheduled_time")))))
                continue
            raise TransitionRefused(
                f"The server moved the run to {decided.type.value} instead of RUNNING: {decided.message}",
                status="ACCEPT",
                state=decided.to_api(),
            )

    def _retries_used(self) -> int:
        """Retries this run already had in earlier processes. Suspensions are not retries: only
        AwaitingRetry states count (the server's run_count also counts each resumption)."""
        if not self.flow.retries or self.client is None or self.ctx is None:
            return 0
        history = self.client.get(f"flow-runs/{self.ctx.flow_run.id}/states/")
        return sum(1 for state in history if state.get("name") == "AwaitingRetry")

    def log(self, level: int, message: str, *args: Any) -> None:
        if self.logger is not None:
            self.logger.log(level, message, *args)

    # --- attempts ---

    def start_attempt(self) -> None:
        if self.run_count == 0:
            self.run_count = 1
        assert self.ctx is not None
        self.ctx.flow_run.run_count = self.run_count
        if self.run_count == 1:
            self.log(logging.INFO, "Beginning flow run %r for flow %r", self.ctx.flow_run.name, self.flow.name)

    def failed_attempt(self, exc: BaseException, *, timed_out: bool = False) -> State | None:
        """A failed attempt: the final state, or None when a retry follows after `self.retry_delay`."""
        if timed_out:
            exc = FlowRunTimeoutError(f"Flow run exceeded timeout of {self.flow.timeout_seconds} second(s)")
        message = f"Flow run encountered an exception. {type(exc).__name__}: {exc}"
        self.log(logging.ERROR, "%s\n%s", message, "".join(traceback.format_exception(exc)).rstrip())
        # A run whose pause timed out is not retried: nobody answered, and nobody would.
        if self.run_count <= self.flow.retries and not isinstance(exc, FlowPauseTimeout):
            from tether.tasks import retry_delays

            delays = retry_delays(self.flow.retry_delay_seconds, self.flow.retries, None)
            self.retry_delay = delays[self.run_count - 1]
            due = time.time() + self.retry_delay
            import datetime as dt

            awaiting = AwaitingRetry(
                message=message, details={"scheduled_time": dt.datetime.fromtimestamp(due, dt.UTC).isoformat()}
            )
            if self.hands_back_retries:
                self.log(
                    logging.INFO,
                    "Retry %d/%d will start in %g second(s), in a new process: the run goes back to its work pool",
                    self.run_count,
                    self.flow.retries,
                    self.retry_delay,
                )
                # Like a final state, AwaitingRetry ends the run token's lease: report everything first.
                self._wait_for_futures()
                if self.reporter is not None:
                    self.reporter.flush(final_flush_timeout())
                self.handed_back = self.propose(awaiting)
                return None
            self.propose(awaiting)
            self.log(
                logging.INFO,
                "Retry %d/%d will start in %g second(s)",
                self.run_count,
                self.flow.retries,
                self.retry_delay,
            )
            return None
        name = "TimedOut" if timed_out else "Failed"
        return Failed(name=name, message=message, data=exc, details={"retriable": False})

    def retry(self) -> None:
        self._wait_for_futures()
        self.run_count += 1
        while True:
            decided = self.propose(Retrying())
            if decided.type == StateType.RUNNING:
                return
            raise TransitionRefused(
                f"The server did not let the run retry: {decided.type.value}", status="ACCEPT", state=decided.to_api()
            )

    def completed(self, value: Any) -> State:
        futures: list[TetherFuture[Any]] = []
        collect_futures(value, futures)
        if isinstance(value, State):
            return value
        if futures:
            states = resolve_futures_to_states(value)
            failed = [s for s in _flatten_states(states) if not s.is_completed()]
            if failed:
                return Failed(message=f"{len(failed)} of the returned task runs did not complete.", data=failed[0].data)
            from tether._task_engine import _unwrap

            value = _unwrap(states, as_results=True)
        return Completed(data=value)

    def _wait_for_futures(self) -> None:
        if self.ctx is not None:
            self.ctx.task_runner.shutdown()

    # --- the end ---

    def finish(self, state: State) -> State:
        """Wait for task runs, deliver every report, propose the final state, run the hooks."""
        assert self.ctx is not None
        self.finished = True
        try:
            self._wait_for_futures()
        except BaseException:  # noqa: BLE001 - the run's state is what we report; a stuck pool is logged
            self.log(logging.ERROR, "Waiting for task runs failed:\n%s", traceback.format_exc())
        # Everything the run logs goes out before its final state: a run token stops working
        # once its run is final, so a line logged after that could not be delivered.
        self.log(
            logging.INFO if state.is_completed() else logging.ERROR,
            "Finished in state %r",
            state,
        )
        self._hooks(state)
        undelivered: ReportNotDelivered | None = None
        if self.reporter is not None:
            try:
                self.reporter.flush(final_flush_timeout())
            except ReportNotDelivered as exc:
                undelivered = exc
                state = Failed(message=f"The run's reports could not be delivered: {exc}", data=exc)
        final = state
        if self.client is not None:
            try:
                final = self.propose(state)
            except TransitionRefused as exc:
                self.log(logging.WARNING, "The server refused the final state %r: %s", state, exc)
            except Exception as exc:
                if undelivered is None:
                    raise
                self.log(logging.ERROR, "The final state could not be reported either: %s", exc)
        self._finish_parent_task_run(state)
        if self.owns_reporter and self.reporter is not None:
            try:
                self.reporter.close(final_flush_timeout())
            except ReportNotDelivered as exc:
                # A run token ends with its run's final state (401): lines logged after an accepted
                # final state ("Finished in state", hooks) cannot be delivered and that is expected.
                token_ended = isinstance(exc.__cause__, APIError) and exc.__cause__.status_code == 401
                if not (token_ended and final.is_final()):
                    undelivered = undelivered or exc
        if self.owns_client and self.client is not None:
            self.client.close()
        if undelivered is not None:
            raise undelivered
        if final.type != state.type and final.data is None:
            final.data = state.data
        return state

    def suspend(self, signal: FlowSuspended) -> State:
        """The run suspended itself (it is PAUSED on the server): deliver its reports and end, proposing nothing."""
        assert self.ctx is not None
        self.finished = True
        try:
            self._wait_for_futures()
        except BaseException:  # noqa: BLE001 - the run is suspended either way; a stuck pool is logged
            self.log(logging.ERROR, "Waiting for task runs failed:\n%s", traceback.format_exc())
        self.log(logging.INFO, "%s", signal)
        if self.owns_reporter and self.reporter is not None:
            self.reporter.close(final_flush_timeout())
        if self.owns_client and self.client is not None:
            self.client.close()
        return Paused(name="Suspended", message=str(signal), data=signal)

    def hand_back(self) -> State:
        """The run went back to its work pool for a retry (AwaitingRetry): end this process's part."""
        assert self.handed_back is not None
        self.finished = True
        if self.owns_reporter and self.reporter is not None:
            self.reporter.close(final_flush_timeout())
        if self.owns_client and self.client is not None:
            self.client.close()
        return self.handed_back

    def _finish_parent_task_run(self, state: State) -> None:
        if self.parent_task_run_id is None or self.reporter is None:
            return
        mirrored = State(type=state.type, name=state.name, message=state.message)
        self.reporter.report_task_run({"id": self.parent_task_run_id, "state": mirrored.to_api()})

    def _hooks(self, state: State) -> None:
        if state.is_completed():
            hooks = self.flow.on_completion_hooks
        elif state.is_failed():
            hooks = self.flow.on_failure_hooks
        elif state.is_cancelled():
            hooks = self.flow.on_cancellation_hooks
        elif state.is_crashed():
            hooks = self.flow.on_crashed_hooks
        else:
            hooks = []
        assert self.ctx is not None
        for hook in hooks:
            try:
                hook(self.flow, self.ctx.flow_run, state)
            except Exception:  # noqa: BLE001 - a failing hook is logged, it does not change the state
                self.log(logging.ERROR, "Hook %r failed:\n%s", getattr(hook, "__name__", hook), traceback.format_exc())

    def interrupted(self, exc: BaseException) -> State:
        if isinstance(exc, TerminationSignal):
            return Cancelled(message=f"The flow run was cancelled ({exc}).", data=exc)
        return Crashed(message=f"Execution was interrupted: {type(exc).__name__}: {exc}", data=exc)


def _flatten_states(value: Any) -> list[State]:
    if isinstance(value, State):
        return [value]
    if isinstance(value, list | tuple | set):
        return [s for item in value for s in _flatten_states(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _flatten_states(item)]
    return []


def _seconds_until(iso: Any) -> float:
    import datetime as dt

    if not isinstance(iso, str):
        return 1.0
    try:
        due = dt.datetime.fromisoformat(iso)
    except ValueError:
        return 1.0
    return (due - dt.datetime.now(dt.UTC)).total_seconds()


def _result(state: State, return_state: bool) -> Any:
    return state if return_state else state.result()


def run_flow_sync(
    flow: Flow[..., Any],
    bound: inspect.BoundArguments,
    *,
    return_state: bool = False,
    flow_run: dict[str, Any] | None = None,
    epoch: int | None = None,
    client: Client | None = None,
) -> Any:
    engine = FlowRunEngine(flow, bound, flow_run=flow_run, epoch=epoch, client=client)
    ctx = engine.begin()
    token = flow_run_context.set(ctx)
    task_token = task_run_context.set(None)
    try:
        engine.start_running()
        while True:
            engine.start_attempt()
            try:
                with sync_timeout(flow.timeout_seconds) as interrupt:
                    value = flow.fn(*bound.args, **bound.kwargs)
                state: State | None = engine.completed(value)
            except Interrupted as exc:
                if interrupt is None or not isinstance(exc, interrupt):
                    raise
                state = engine.failed_attempt(exc, timed_out=True)
            except Exception as exc:  # noqa: BLE001 - the flow's failure becomes its state
                state = engine.failed_attempt(exc)
            except FlowSuspended as signal:
                final = engine.suspend(signal)
                break
            if state is not None:
                final = engine.finish(state)
                break
            if engine.handed_back is not None:
                final = engine.hand_back()
                break
            time.sleep(engine.retry_delay)
            engine.retry()
    except BaseException as exc:
        if not engine.finished and not isinstance(exc, TransitionRefused | ReportNotDelivered):
            engine.finish(engine.interrupted(exc))
        raise
    finally:
        task_run_context.reset(task_token)
        flow_run_context.reset(token)
    return _result(final, return_state)


async def run_flow_async(
    flow: Flow[..., Any],
    bound: inspect.BoundArguments,
    *,
    return_state: bool = False,
    flow_run: dict[str, Any] | None = None,
    epoch: int | None = None,
    client: Client | None = None,
) -> Any:
    engine = FlowRunEngine(flow, bound, flow_run=flow_run, epoch=epoch, client=client)
    ctx = engine.begin()
    token = flow_run_context.set(ctx)
    task_token = task_run_context.set(None)
    try:
        engine.start_running()
        while True:
            engine.start_attempt()
            try:
                coro = flow.fn(*bound.args, **bound.kwargs)
                if flow.timeout_seconds:
                    value = await asyncio.wait_for(coro, flow.timeout_seconds)
                else:
                    value = await coro
                state: State | None = engine.completed(value)
            except TimeoutError as exc:
                timed_out = flow.timeout_seconds is not None and not isinstance(exc, FlowPauseTimeout)
                state = engine.failed_attempt(exc, timed_out=timed_out)
            except Exception as exc:  # noqa: BLE001 - the flow's failure becomes its state
                state = engine.failed_attempt(exc)
            except FlowSuspended as signal:
                final = engine.suspend(signal)
                break
            if state is not None:
                final = engine.finish(state)
                break
            if engine.handed_back is not None:
                final = engine.hand_back()
                break
            await asyncio.sleep(engine.retry_delay)
            engine.retry()
    except BaseException as exc:
        if not engine.finished and not isinstance(exc, TransitionRefused | ReportNotDelivered):
            engine.finish(engine.interrupted(exc))
        raise
    finally:
        task_run_context.reset(task_token)
        flow_run_context.reset(token)
    return _result(final, return_state)
