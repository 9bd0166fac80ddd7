"""Running deployments from code (like `prefect.deployments.run_deployment`)."""

from __future__ import annotations

import datetime as _dt
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tether._parameters import jsonable
from tether.context import flow_run_context
from tether.exceptions import APIError
from tether.states import Completed, Running, Scheduled, State

if TYPE_CHECKING:
    from tether._api import Client
    from tether.context import FlowRunContext

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


@dataclass
class DeploymentFlowRun:
    """The flow run `run_deployment()` created, as last seen on the server."""

    id: str
    name: str
    deployment_id: str | None
    parameters: dict[str, Any]
    state: State
    tags: list[str] = field(default_factory=list)
    parent_task_run_id: str | None = None

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> DeploymentFlowRun:
        return cls(
            id=str(body["id"]),
            name=body.get("name", ""),
            deployment_id=body.get("deployment_id"),
            parameters=body.get("parameters") or {},
            state=State.from_api(body["state"]),
            tags=list(body.get("tags") or []),
            parent_task_run_id=body.get("parent_task_run_id"),
        )


def _deployment_id(client: Client, name: str) -> str:
    try:
        return str(uuid.UUID(name))
    except ValueError:
        pass
    flow_name, sep, deployment_name = name.partition("/")
    if not sep or not flow_name or not deployment_name:
        raise ValueError(f"Name the deployment as 'FLOW/DEPLOYMENT' (or give its id), not {name!r}.")
    found = client.get("deployments/", params={"flow_name": flow_name, "name": deployment_name})["results"]
    if not found:
        raise ValueError(f"No deployment {name!r} in this workspace.")
    return str(found[0]["id"])


def _link_to_parent(ctx: FlowRunContext, name: str) -> str | None:
    """Inside a flow, the new run is a subflow of it: a task run of the parent stands for it."""
    if ctx.reporter is None:
        return None
    task_run_id = str(uuid.uuid4())
    ctx.reporter.report_task_run(
        {
            "id": task_run_id,
            "flow_run_id": ctx.flow_run.id,
            "name": ctx.task_run_name(f"run_deployment/{name}")[:255],
            "task_key": f"run_deployment:{name}"[:255],
            "state": Running().to_api(),
        }
    )
    ctx.reporter.flush()  # the new run names this task run as its parent: it must exist first
    return task_run_id


def run_deployment(
    name: str,
    parameters: dict[str, Any] | None = None,
    scheduled_time: _dt.datetime | None = None,
    flow_run_name: str | None = None,
    timeout: float | None = None,
    poll_interval: float = 5.0,
    tags: list[str] | None = None,
    idempotency_key: str | None = None,
    work_queue_name: str | None = None,
    as_subflow: bool = True,
    job_variables: dict[str, Any] | None = None,
) -> DeploymentFlowRun:
    """Create a run of deployment `name` ("FLOW/DEPLOYMENT" or its id) and wait for it to end.

    `timeout=0` returns at once; `timeout=None` waits until the run is final; otherwise the
    run as it is after `timeout` seconds is returned. Called inside a flow (and `as_subflow`),
    the new run is linked to it as a subflow. The same `idempotency_key` never creates two runs.
    `work_queue_name` is accepted for Prefect compatibility and ignored: the deployment's queue is used.
    """
    from tether._api import Client

    ctx = flow_run_context.get()
    owned: Client | None = None
    client = ctx.client if ctx is not None else None
    if client is None:
        client = owned = Client.from_env()
    if client is None:
        raise RuntimeError("run_deployment() needs TETHER_API_URL (and TETHER_API_KEY).")
    try:
        body: dict[str, Any] = {
            "deployment_id": _deployment_id(client, name),
            "parameters": jsonable(parameters or {}),
            "tags": sorted(tags or []),
            "job_variables": job_variables or {},
            "idempotency_key": idempotency_key or f"sdk-run-deployment-{uuid.uuid4()}",
        }
        if flow_run_name:
            body["name"] = flow_run_name[:255]
        if scheduled_time is not None:
            body["state"] = Scheduled(details={"scheduled_time": scheduled_time.isoformat()}).to_api()
        parent_task_run_id = _link_to_parent(ctx, name) if ctx is not None and as_subflow else None
        if parent_task_run_id:
            body["parent_task_run_id"] = parent_task_run_id
        run = DeploymentFlowRun.from_api(_create_once(client, body))
        if timeout != 0:
            run = _wait(client, run.id, timeout=timeout, poll_interval=poll_interval)
        if parent_task_run_id and ctx is not None and ctx.reporter is not None:
            mirrored = (
                State(type=run.state.type, name=run.state.name, message=run.state.message)
                if run.state.is_final()
                else Completed(message=f"Created flow run {run.name!r} ({run.state.type.value}).")
            )
            ctx.reporter.report_task_run({"id": parent_task_run_id, "state": mirrored.to_api()})
        return run
    finally:
        if owned is not None:
            owned.close()


def _create_once(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    """Create the run; a key already used (e.g. by another run of the calling flow) answers with its run."""
    try:
        return client.create_flow_run(body)
    except APIError as exc:
        error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
        existing = (error.get("details") or {}).get("flow_run_id")
        if exc.status_code != 422 or not existing:
            raise
        found: dict[str, Any] = client.get(f"flow-runs/{existing}/")
        return found


def _wait(client: Client, flow_run_id: str, *, timeout: float | None, poll_interval: float) -> DeploymentFlowRun:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = DeploymentFlowRun.from_api(client.get(f"flow-runs/{flow_run_id}/"))
        if run.state.type.value in TERMINAL:
            return run
        if deadline is not None and time.monotonic() >= deadline:
            return run
        pause = poll_interval if deadline is None else min(poll_interval, max(0.0, deadline - time.monotonic()))
        time.sleep(max(0.05, pause))


__all__ = ["DeploymentFlowRun", "run_deployment"]
