"""Reads for flows and deployments, always inside the workspace in scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db.models import QuerySet

from controlplane.core.errors import NotFound
from controlplane.core.json_filters import having_all_tags
from controlplane.flows.models import Deployment, Flow


def flows_list(*, name: str | None = None) -> QuerySet[Flow]:
    flows = Flow.objects.all()
    if name is not None:
        flows = flows.filter(name=name)
    return flows


def flow_by_id(*, flow_id: uuid.UUID) -> Flow:
    flow: Flow | None = Flow.objects.filter(id=flow_id).first()
    if flow is None:
        raise NotFound("Flow not found.", details={"flow_id": ["not found"]})
    return flow


def deployments_with_relations() -> QuerySet[Deployment]:
    """Deployments with what their responses show (flow, pool, queue) joined in: no N+1."""
    return Deployment.objects.select_related("flow", "work_pool", "work_queue")


def deployments_list(
    *,
    flow_id: uuid.UUID | None = None,
    flow_name: str | None = None,
    name: str | None = None,
    work_pool_name: str | None = None,
    work_queue_name: str | None = None,
    tags: Sequence[str] = (),
    paused: bool | None = None,
) -> QuerySet[Deployment]:
    """Filters combine with AND; `tags` matches deployments carrying every one of them."""
    deployments = deployments_with_relations()
    if flow_id is not None:
        deployments = deployments.filter(flow_id=flow_id)
    if flow_name is not None:
        deployments = deployments.filter(flow__name=flow_name)
    if name is not None:
        deployments = deployments.filter(name=name)
    if work_pool_name is not None:
        deployments = deployments.filter(work_pool__name=work_pool_name)
    if work_queue_name is not None:
        deployments = deployments.filter(work_queue__name=work_queue_name)
    if tags:
        deployments = having_all_tags(deployments, "tags", tags)
    if paused is not None:
        deployments = deployments.filter(paused=paused)
    return deployments


def deployment_by_name(*, flow_name: str, deployment_name: str) -> Deployment:
    """`flow/deployment` as users write it (`tether run etl/nightly`); 404 when not in this workspace."""
    deployment: Deployment | None = (
        deployments_with_relations().filter(flow__name=flow_name, name=deployment_name).first()
    )
    if deployment is None:
        raise NotFound(f"No deployment {flow_name}/{deployment_name} in this workspace.")
    return deployment


def deployment_by_full_name(full_name: str) -> Deployment:
    """`"etl/nightly"` → that deployment (the name before the first slash is the flow's)."""
    flow_name, slash, deployment_name = full_name.partition("/")
    if not slash or not flow_name or not deployment_name:
        raise NotFound(f"Name a deployment as FLOW/DEPLOYMENT, not {full_name!r}.")
    return deployment_by_name(flow_name=flow_name, deployment_name=deployment_name)
