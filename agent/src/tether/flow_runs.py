"""Pausing, suspending and resuming flow runs (like `prefect.flow_runs`).

`pause_flow_run()` keeps the process waiting until someone resumes the run from the UI or
the API (optionally with typed input); `suspend_flow_run()` ends the process, and the run
starts again from the top when resumed: task results that were persisted or cached are
reused, and the pause answers itself from the stored input.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from typing import TYPE_CHECKING, Any, TypeVar, overload

from tether.context import flow_run_context, task_run_context
from tether.exceptions import APIError, CancelledWhilePaused, FlowPauseTimeout, FlowSuspended, TransitionRefused
from tether.states import Paused, State, StateType

if TYPE_CHECKING:
    from tether._api import Client
    from tether.context import FlowRunContext

T = TypeVar("T")
DEFAULT_PAUSE_TIMEOUT = 3600
DEFAULT_POLL_INTERVAL = 2.0
_logger = logging.getLogger("tether.flow_runs")


def _context(action: str) -> tuple[FlowRunContext, Client]:
    ctx = flow_run_context.get()
    if ctx is None:
        raise RuntimeError(f"{action}() must be called from inside a flow run.")
    if task_run_context.get() is not None:
        raise RuntimeError(f"{action}() pauses a flow run; it cannot be called from inside a task.")
    if ctx.client is None:
        raise RuntimeError(
            f"{action}() needs a tracked flow run (set TETHER_API_URL): nobody could resume an untracked one."
        )
    return ctx, ctx.client


def _stored_input(client: Client, flow_run_id: str, key: str) -> tuple[bool, Any]:
    found = client.get(f"flow-runs/{flow_run_id}/input/", params={"key": key})["results"]
    return (True, found[0]["value"]) if found else (False, None)


def _answer(wait_for_input: Any, value: Any) -> Any:
    if wait_for_input is None:
        return None
    from tether._run_input import parse_input

    return parse_input(wait_for_input, value)


def _propose_pause(
    ctx: FlowRunContext, client: Client, *, key: str, timeout: float, wait_for_input: Any, suspended: bool
) -> None:
    if ctx.reporter is not None:
        # What happened before the pause is on the server when someone looks at the paused run.
        ctx.reporter.flush()
    deadline = _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=timeout)
    details: dict[str, Any] = {"pause_key": key, "pause_timeout": deadline.isoformat()}
    if wait_for_input is not None:
        from tether._run_input import input_schema

        details["run_input_schema"] = input_schema(wait_for_input)
    name = "Suspended" if suspended else "Paused"
    state = Paused(name=name, message=f"{name}: waiting to be resumed.", details=details)
    result = client.set_flow_run_state(ctx.flow_run.id, state.to_api(), epoch=ctx.epoch, max_wait=0)
    decided = State.from_api(result["state"])
    if decided.type != StateType.PAUSED:
        raise TransitionRefused(
            f"The server did not let the run pause: it is {decided.type.value} ({result.get('reason', '')}).",
            status=str(result.get("status", "REJECT")),
            state=result.get("state"),
        )


def _wait_until_resumed(client: Client, flow_run_id: str, *, timeout: float, poll_interval: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(max(0.05, min(poll_interval, deadline - time.monotonic())))
        try:
            run = client.get(f"flow-runs/{flow_run_id}/", retry_for=min(30.0, max(1.0, deadline - time.monotonic())))
        except APIError as exc:
            if exc.status_code is not None and exc.status_code < 500 and exc.status_code != 429:
                raise
            _logger.warning("Cannot see whether the run was resumed yet: %s", exc)
            run = None
        state_type = run["state"]["type"] if run else StateType.PAUSED.value
        if state_type == StateType.RUNNING.value:
            return
        if state_type in (StateType.CANCELLING.value, StateType.CANCELLED.value):
            raise CancelledWhilePaused()
        if state_type != StateType.PAUSED.value:
            raise FlowPauseTimeout(f"The paused run was ended while it waited ({state_type}).")
        if time.monotonic() >= deadline:
            raise FlowPauseTimeout(f"The flow run was not resumed within {timeout:g} second(s).")


@overload
def pause_flow_run(
    wait_for_input: None = None,
    timeout: float = DEFAULT_PAUSE_TIMEOUT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    key: str | None = None,
) -> None: ...


@overload
def pause_flow_run(
    wait_for_input: type[T],
    timeout: float = DEFAULT_PAUSE_TIMEOUT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    key: str | None = None,
) -> T: ...


def pause_flow_run(
    wait_for_input: Any = None,
    timeout: float = DEFAULT_PAUSE_TIMEOUT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    key: str | None = None,
) -> Any:
    """Pause the current flow run until it is resumed (or `timeout` seconds pass: `FlowPauseTimeout`).

    With `wait_for_input=SomeModel` (pydantic model, dataclass, TypedDict or a plain type),
    the run waits for input matching that type's JSON Schema and returns it, typed. The
    process keeps waiting; use `suspend_flow_run()` to free it for a long wait.
    """
    ctx, client = _context("pause_flow_run")
    key = key or f"pause-{next(ctx.pause_counter)}"
    found, value = _stored_input(client, ctx.flow_run.id, key)
    if found:
        return _answer(wait_for_input, value)
    _propose_pause(ctx, client, key=key, timeout=timeout, wait_for_input=wait_for_input, suspended=False)
    _logger.info(
        "Paused; waiting to be resumed%s.",
        f" with input ({getattr(wait_for_input, '__name__', wait_for_input)})" if wait_for_input else "",
        extra={"flow_run_id": ctx.flow_run.id, "task_run_id": None, "run_label": f"Flow run {ctx.flow_run.name!r}"},
    )
    _wait_until_resumed(client, ctx.flow_run.id, timeout=timeout, poll_interval=poll_interval)
    found, value = _stored_input(client, ctx.flow_run.id, key)
    return _answer(wait_for_input, value if found else {})


@overload
def suspend_flow_run(
    wait_for_input: None = None, timeout: float = DEFAULT_PAUSE_TIMEOUT, key: str | None = None
) -> None: ...


@overload
def suspend_flow_run(wait_for_input: type[T], timeout: float = DEFAULT_PAUSE_TIMEOUT, key: str | None = None) -> T: ...


def suspend_flow_run(wait_for_input: Any = None, timeout: float = DEFAULT_PAUSE_TIMEOUT, key: str | None = None) -> Any:
    """Suspend the current flow run: its process ends now, and the run starts again when resumed.

    Only a deployment's run can be suspended (an agent starts it again). On that new start
    the flow runs from the top; this call then returns the input the run was resumed with
    (typed like `pause_flow_run`), so write the flow so that work done before it is cached
    or persisted. If not resumed within `timeout` seconds, the server fails the run.
    """
    ctx, client = _context("suspend_flow_run")
    if not ctx.flow_run.deployment_id:
        raise RuntimeError("Only a deployment's flow run can be suspended (nothing would start it again).")
    key = key or f"pause-{next(ctx.pause_counter)}"
    found, value = _stored_input(client, ctx.flow_run.id, key)
    if found:
        return _answer(wait_for_input, value)
    _propose_pause(ctx, client, key=key, timeout=timeout, wait_for_input=wait_for_input, suspended=True)
    raise FlowSuspended(f"Flow run {ctx.flow_run.name!r} was suspended; it starts again when resumed.")


def resume_flow_run(flow_run_id: str, run_input: dict[str, Any] | None = None) -> State:
    """Resume a paused or suspended flow run (what the UI's Resume button does), with its input."""
    from tether._api import Client

    client = Client.from_env()
    if client is None:
        raise RuntimeError("resume_flow_run() needs TETHER_API_URL.")
    with client:
        body = {} if run_input is None else {"input": run_input}
        result = client.post(f"flow-runs/{flow_run_id}/resume/", body, retry_for=0.0)
    return State.from_api(result["state"])


__all__ = ["pause_flow_run", "resume_flow_run", "suspend_flow_run"]
