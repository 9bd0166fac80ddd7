"""Flows, deployments and runs in acme/prod for the runs tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from controlplane.core.tenancy import tenant_scope
from controlplane.flows.models import Deployment, Flow
from controlplane.runs.models import FlowRun, FlowRunState
from controlplane.runs.orchestration.context import StateSpec
from controlplane.runs.orchestration.engine import book_state
from controlplane.runs.states import StateType
from tests.support.tenants import World

PROD = "/api/v1/orgs/acme/workspaces/prod"


def make_deployment(world: World, **fields: Any) -> Deployment:
    flow, _ = Flow.dangerously_unscoped.get_or_create(workspace=world.prod, name="etl")
    defaults: dict[str, Any] = {"entrypoint": "flows/etl.py:etl"}
    defaults.update(fields)
    name = defaults.pop("name", "nightly")
    deployment: Deployment = Deployment.dangerously_unscoped.create(
        workspace=world.prod, flow=flow, name=name, **defaults
    )
    return deployment


def make_run(
    world: World,
    state: str = StateType.SCHEDULED,
    *,
    name: str = "",
    deployment: Deployment | None = None,
    **fields: Any,
) -> FlowRun:
    """A run already in `state` (booked the way the engine books it), due now."""
    flow, _ = Flow.dangerously_unscoped.get_or_create(workspace=world.prod, name="etl")
    run = FlowRun(
        workspace=world.prod, flow=deployment.flow if deployment else flow, deployment=deployment, name="r", **fields
    )
    past = timezone.now() - timedelta(seconds=1)
    details = {"scheduled_time": past.isoformat()} if state == StateType.SCHEDULED else {}
    spec = StateSpec(type=state, name=name, details=details)
    book_state(run, None, spec, past)
    run.save()
    FlowRunState.objects.create(flow_run=run, type=run.state_type, name=run.state_name, timestamp=past, details=details)
    return run


def in_prod(world: World) -> Any:
    return tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id)
