"""Helpers for the dispatch tests (pools, agents, due runs in acme/prod); holds no tests itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from controlplane.flows.models import Deployment
from controlplane.runs.models import FlowRun
from controlplane.runs.states import StateType
from controlplane.workpools.models import WorkPool, WorkQueue
from controlplane.workpools.services import work_pool_create
from tests.support.clients import bearer
from tests.support.runs import PROD, in_prod, make_deployment, make_run
from tests.support.tenants import World, actor_for, service_account_key

AGENTS = f"{PROD}/agents"


@dataclass
class Fleet:
    world: World
    pool: WorkPool
    default: WorkQueue
    deployment: Deployment
    worker: APIClient
    worker_secret: str


def make_fleet(world: World, *, pool_name: str = "main", **deployment_fields: Any) -> Fleet:
    with in_prod(world):
        pool = work_pool_create(actor=actor_for(world.alice), workspace=world.prod, name=pool_name)
    default = WorkQueue.dangerously_unscoped.get(pool=pool, name="default")
    deployment = make_deployment(
        world, name=f"{pool_name}-dep", work_pool=pool, work_queue=default, **deployment_fields
    )
    _, secret = service_account_key(world.alice, world.prod, "worker", name=f"agent-{pool_name}")
    return Fleet(world, pool, default, deployment, bearer(secret), secret)


def due_run(
    fleet: Fleet,
    *,
    queue: WorkQueue | None = None,
    deployment: Deployment | None = None,
    due_in: float = -1.0,
    **fields: Any,
) -> FlowRun:
    """A SCHEDULED run of the fleet's pool, due `due_in` seconds from now (negative: already due)."""
    deployment = deployment or fleet.deployment
    run = make_run(
        fleet.world,
        deployment=deployment,
        work_pool=fleet.pool,
        work_queue=queue or deployment.work_queue or fleet.default,
        **fields,
    )
    FlowRun.dangerously_unscoped.filter(pk=run.pk).update(
        next_scheduled_start_time=timezone.now() + timedelta(seconds=due_in)
    )
    run.refresh_from_db()
    return run


def hello(fleet: Fleet, name: str = "agent-1", **body: Any) -> str:
    response = fleet.worker.post(
        f"{AGENTS}/hello/",
        {"name": name, "pool": fleet.pool.name, "capacity": 4, "version": "0.1", **body},
        format="json",
    )
    assert response.status_code == 200, response.content
    return str(response.json()["agent_id"])


def claim(fleet: Fleet, agent_id: str, capacity: int = 10, wait_seconds: float = 0) -> list[dict[str, Any]]:
    response = fleet.worker.post(
        f"{AGENTS}/{agent_id}/claim/", {"capacity": capacity, "wait_seconds": wait_seconds}, format="json"
    )
    assert response.status_code == 200, response.content
    runs: list[dict[str, Any]] = response.json()["runs"]
    return runs


def state_of(run: FlowRun) -> tuple[str, str]:
    run.refresh_from_db()
    return run.state_type, run.state_name


def expire_lease(run: FlowRun) -> None:
    FlowRun.dangerously_unscoped.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def set_state_url(run_id: object) -> str:
    return f"{PROD}/flow-runs/{run_id}/set-state/"


RUNNING = {"state": {"type": StateType.RUNNING}}
