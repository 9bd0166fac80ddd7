"""Running one claimed background task run with the task engine, its reports fenced by the lease.

The engine reports a task run's states and log lines to the reporter of the flow run it runs
in. A background task run has no flow run, so the worker gives it a context of its own whose
reporter sends this run's states to `background-tasks/{id}/set-state/` at once, with the
worker's id and the lease's epoch, and its log lines to `background-tasks/logs/`. A refused
report (409: the lease was lost and the run handed to another worker, or a rule refused it)
raises `LeaseLost` inside the engine, which ends this execution without another report.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from tether._api import Client
from tether._redaction import redact
from tether._reporter import truncate_message
from tether._task_engine import run_task_async, run_task_sync
from tether.background import RESULT_KEY_PREFIX
from tether.context import FlowRun, FlowRunContext, flow_run_context
from tether.exceptions import APIError, TetherException, TransitionRefused
from tether.flows import Flow
from tether.results import ResultStore, default_result_store
from tether.states import State
from tether.task_runners import ThreadPoolTaskRunner
from tether.tasks import Task

logger = logging.getLogger("tether.task_worker")

LOG_BATCH = 200
FINAL_TYPES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
REPORT_RETRY_SECONDS = 30.0


class LeaseLost(TetherException):
    """The control plane refused a report of this run: another worker holds it now, or it is over."""


@dataclass
class Claimed:
    """A run as the claim handed it out, and what the heartbeat learns about it."""

    id: str
    name: str
    task_key: str
    epoch: int
    run_count: int
    max_retries: int
    parameters: dict[str, Any]
    parameters_ref: str
    result_storage: str
    lost: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Claimed:
        return cls(
            id=str(body["id"]),
            name=str(body.get("name") or body["task_key"]),
            task_key=str(body["task_key"]),
            epoch=int(body["epoch"]),
            run_count=int(body.get("run_count") or 0),
            max_retries=int(body.get("max_retries") or 0),
            parameters=dict(body.get("parameters") or {}),
            parameters_ref=str(body.get("parameters_ref") or ""),
            result_storage=str(body.get("result_storage") or ""),
        )


class RunReporter:
    """Stands in for a flow run's reporter: this run's states go out at once, fenced; logs in batches."""

    def __init__(self, client: Client, run: Claimed, worker_id: uuid.UUID) -> None:
        self._client = client
        self._run = run
        self._worker_id = str(worker_id)
        self._engine_run_id: str | None = None
        self._logs: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def report_task_run(self, entry: dict[str, Any]) -> None:
        # The first task run the engine reports is this one; tasks it calls inside are not tracked.
        if self._engine_run_id is None:
            self._engine_run_id = str(entry["id"])
        if str(entry["id"]) != self._engine_run_id:
            return
        state = entry["state"]
        if state["type"] in FINAL_TYPES:
            self.flush_logs()  # the lines before the final state, so a follower sees them all
        self.set_state({key: state[key] for key in ("type", "name", "message", "details") if key in state})

    def set_state(self, state: dict[str, Any]) -> dict[str, Any]:
        if self._run.lost.is_set():
            raise LeaseLost(f"Task run {self._run.id}: the lease was lost; stopping without another report.")
        body = {"worker_id": self._worker_id, "epoch": self._run.epoch, "state": state}
        try:
            answer: dict[str, Any] = self._client.post(
                f"background-tasks/{self._run.id}/set-state/", body, retry_for=REPORT_RETRY_SECONDS
            )
        except TransitionRefused as exc:
            self._run.lost.set()
            raise LeaseLost(f"Task run {self._run.id}: the control plane refused the report: {exc}") from None
        return answer

    def report_log(self, line: dict[str, Any]) -> None:
        entry = {
            "task_run_id": self._run.id,
            "source": line.get("source") or "task-worker",
            "seq": line["seq"],
            "level": line["level"],
            "name": line.get("name") or "",
            "message": truncate_message(redact(line["message"])),
            "timestamp": line["timestamp"],
        }
        with self._lock:
            self._logs.append(entry)
            full = len(self._logs) >= LOG_BATCH
        if full:
            self.flush_logs()

    def flush_logs(self) -> None:
        with self._lock:
            lines, self._logs = self._logs, []
        if not lines:
            return
        try:
            self._client.request("POST", "background-tasks/logs/", json=lines, retry_for=REPORT_RETRY_SECONDS)
        except APIError as exc:
            # Logs are best effort next to the run's state: say so, never fail the run for them.
            logger.warning("Task run %s: %d log line(s) could not be delivered: %s", self._run.id, len(lines), exc)


def _no_flow() -> None:
    """Stands for the flow a background task run has not: only its context's shape is used."""


_BACKGROUND_FLOW: Flow[..., Any] = Flow(_no_flow, name="background-tasks")


def _store(task: Task[..., Any], run: Claimed) -> ResultStore:
    if run.result_storage:
        return ResultStore(run.result_storage, serializer=task.result_serializer or "pickle")
    return default_result_store()


def _arguments(run: Claimed, store: ResultStore) -> tuple[list[Any], dict[str, Any]]:
    if run.parameters_ref:
        record = store.read(run.parameters_ref)
        if record is None or not isinstance(record.value, dict):
            raise LookupError(
                f"The arguments {run.parameters_ref!r} are not in {store.location}: "
                "the caller and this worker must share result storage."
            )
        value: dict[str, Any] = record.value
    else:
        value = run.parameters
    return list(value.get("args") or []), dict(value.get("kwargs") or {})


def execute(
    client: Client, task: Task[..., Any], run: Claimed, worker_id: uuid.UUID, runner: ThreadPoolTaskRunner
) -> State | None:
    """Run `run` to a final state (reported as it goes); None when the lease was lost on the way."""
    reporter = RunReporter(client, run, worker_id)
    store = _store(task, run)
    # Retries already spent by earlier holders (a worker lost mid-run) are not given again.
    remaining = max(0, min(task.retries, run.max_retries) - run.run_count)
    configured = task.with_options(
        retries=remaining,
        persist_result=True,
        result_storage=store,
        result_storage_key=f"{RESULT_KEY_PREFIX}{run.id}",
    )
    context = FlowRunContext(
        flow=_BACKGROUND_FLOW,
        flow_run=FlowRun(id=f"background-{run.id}", name=run.name, flow_name="background-tasks", parameters={}),
        client=None,
        reporter=reporter,  # type: ignore[arg-type]  # the engine only calls report_task_run/report_log
        task_runner=runner,
        result_store=store,
        parameters={},
        log_source=f"task-worker-epoch-{run.epoch}",
    )
    token = flow_run_context.set(context)
    try:
        try:
            args, kwargs = _arguments(run, store)
            bound = configured.signature.bind(*args, **kwargs)
            bound.apply_defaults()
        except (LookupError, TypeError) as exc:
            message = f"The task run's arguments could not be used: {type(exc).__name__}: {exc}"
            logger.error("Task run %s: %s", run.id, message)
            reporter.set_state({"type": "FAILED", "message": message, "details": {"retriable": False}})
            return None
        options: dict[str, Any] = {"task_run_id": run.id, "return_type": "state"}
        if configured.isasync:
            state: State = asyncio.run(run_task_async(configured, bound, **options))
        else:
            state = run_task_sync(configured, bound, **options)
        return state
    except LeaseLost as exc:
        logger.warning("%s", exc)
        return None
    finally:
        flow_run_context.reset(token)
        reporter.flush_logs()
