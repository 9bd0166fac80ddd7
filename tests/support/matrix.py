"""Real objects for every route parameter, so the matrices call routes with live ids.

A route whose `{pk}` names a model with no factory here makes the matrices fail: add one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.services import api_key_create
from controlplane.audit.models import AuditEntry
from controlplane.automations.models import Automation, DeploymentSla, Firing
from controlplane.blocks.models import BlockDocument, BlockType
from controlplane.blocks.services import block_document_create, block_type_create
from controlplane.concurrency.models import ConcurrencyLease, ConcurrencyLimit
from controlplane.core.tenancy import tenant_scope
from controlplane.events.models import InboundWebhook
from controlplane.flows.models import Deployment, DeploymentSchedule, Flow, Variable
from controlplane.orgs.models import Invitation, OrgMembership, ServiceAccount, WorkspaceMembership
from controlplane.orgs.services.invitations import invitation_create
from controlplane.orgs.services.service_accounts import service_account_create
from controlplane.runs.models import Artifact, FlowRun, Log, TaskRun
from controlplane.workpools.models import Agent, WorkPool, WorkQueue
from controlplane.workpools.services import work_pool_create
from tests.support.routes import ApiRoute
from tests.support.tenants import World, actor_for


def _service_account(world: World) -> ServiceAccount:
    account = ServiceAccount.dangerously_unscoped.filter(organization=world.acme, name="matrix-target").first()
    return account or service_account_create(
        actor=actor_for(world.alice), organization=world.acme, name="matrix-target"
    )


def _service_account_key(world: World) -> ApiKey:
    key, _ = api_key_create(
        actor=actor_for(world.alice), organization=world.acme, name="matrix", service_account=_service_account(world)
    )
    return key


def _flow_run(world: World) -> FlowRun:
    flow, _ = Flow.dangerously_unscoped.get_or_create(workspace=world.prod, name="matrix")
    run: FlowRun | None = FlowRun.dangerously_unscoped.filter(workspace=world.prod, name="matrix-run").first()
    return run or FlowRun.dangerously_unscoped.create(workspace=world.prod, flow=flow, name="matrix-run")


def _task_run(world: World) -> TaskRun:
    # A background one: it answers on both task-runs/{pk} and background-tasks/{pk}.
    task, _ = TaskRun.dangerously_unscoped.get_or_create(
        workspace=world.prod, name="matrix-task", defaults={"task_key": "matrix", "background": True}
    )
    return task


def _log(world: World) -> Log:
    log, _ = Log.dangerously_unscoped.get_or_create(
        workspace=world.prod,
        flow_run=_flow_run(world),
        source="matrix",
        seq=0,
        defaults={"message": "matrix", "timestamp": timezone.now()},
    )
    return log  # type: ignore[no-any-return]


def _artifact(world: World) -> Artifact:
    artifact: Artifact | None = Artifact.dangerously_unscoped.filter(workspace=world.prod, key="matrix").first()
    return artifact or Artifact.dangerously_unscoped.create(
        workspace=world.prod, key="matrix", type="markdown", data="# matrix", flow_run=_flow_run(world)
    )


def _flow(world: World) -> Flow:
    flow, _ = Flow.dangerously_unscoped.get_or_create(workspace=world.prod, name="matrix")
    return flow


def _work_pool(world: World) -> WorkPool:
    pool: WorkPool | None = WorkPool.dangerously_unscoped.filter(workspace=world.prod, name="matrix").first()
    if pool is not None:
        return pool
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        return work_pool_create(actor=actor_for(world.alice), workspace=world.prod, name="matrix")


def _work_queue(world: World) -> WorkQueue:
    """A non-default queue of the matrix pool (the default one refuses deletion)."""
    queue, _ = WorkQueue.dangerously_unscoped.get_or_create(
        workspace=world.prod, pool=_work_pool(world), name="matrix-queue", defaults={"priority": 2}
    )
    return queue


def _deployment(world: World) -> Deployment:
    deployment, _ = Deployment.dangerously_unscoped.get_or_create(
        workspace=world.prod,
        flow=_flow(world),
        name="matrix",
        defaults={
            "entrypoint": "flows/matrix.py:main",
            "work_pool": _work_pool(world),
            "work_queue": _work_queue(world),
        },
    )
    return deployment


def _agent(world: World) -> Agent:
    agent, _ = Agent.dangerously_unscoped.get_or_create(workspace=world.prod, pool=_work_pool(world), name="matrix")
    return agent


def _personal_key(world: World) -> ApiKey:
    key, _ = api_key_create(actor=actor_for(world.alice), organization=world.acme, name="matrix", user=world.alice)
    return key


def _concurrency_limit(world: World) -> ConcurrencyLimit:
    limit, _ = ConcurrencyLimit.dangerously_unscoped.get_or_create(
        workspace=world.prod, name="matrix", defaults={"limit": 2}
    )
    return limit


def _concurrency_lease(world: World) -> ConcurrencyLease:
    lease: ConcurrencyLease = ConcurrencyLease.dangerously_unscoped.create(
        workspace=world.prod, expires_at=timezone.now() + timedelta(minutes=5)
    )
    lease.limits.add(_concurrency_limit(world))
    return lease


def _block_type(world: World) -> BlockType:
    found: BlockType | None = BlockType.dangerously_unscoped.filter(workspace=world.prod, slug="matrix").first()
    if found is not None:
        return found
    schema = {"type": "object", "properties": {"token": {"type": "string", "x-secret": True}}}
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        return block_type_create(
            actor=actor_for(world.alice), workspace=world.prod, slug="matrix", name="Matrix", schema=schema
        )


def _block_document(world: World) -> BlockDocument:
    found: BlockDocument | None = BlockDocument.dangerously_unscoped.filter(workspace=world.prod, name="matrix").first()
    if found is not None:
        return found
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        return block_document_create(
            actor=actor_for(world.alice),
            workspace=world.prod,
            block_type=_block_type(world),
            name="matrix",
            data={"token": "matrix-secret"},
        )


def _automation(world: World) -> Automation:
    automation, _ = Automation.dangerously_unscoped.get_or_create(
        workspace=world.prod,
        name="matrix",
        defaults={"trigger": {"type": "event", "expect": ["matrix.*"]}, "actions": []},
    )
    return automation


def _firing(world: World) -> Firing:
    firing, _ = Firing.dangerously_unscoped.get_or_create(
        workspace=world.prod, automation=_automation(world), key="matrix"
    )
    return firing


def _sla(world: World) -> DeploymentSla:
    sla, _ = DeploymentSla.dangerously_unscoped.get_or_create(
        workspace=world.prod,
        deployment=_deployment(world),
        name="matrix",
        defaults={"kind": "complete_within", "seconds": 60},
    )
    return sla


def _inbound_webhook(world: World) -> InboundWebhook:
    webhook, _ = InboundWebhook.dangerously_unscoped.get_or_create(
        workspace=world.prod,
        name="matrix",
        defaults={"slug": "matrix-hook", "secret_hash": "-", "template": {"event": "matrix"}},
    )
    return webhook


FACTORIES: dict[type[models.Model], Callable[[World], models.Model]] = {
    Automation: _automation,
    Firing: _firing,
    DeploymentSla: _sla,
    InboundWebhook: _inbound_webhook,
    ConcurrencyLimit: _concurrency_limit,
    ConcurrencyLease: _concurrency_lease,
    OrgMembership: lambda w: OrgMembership.dangerously_unscoped.get(organization=w.acme, user=w.bob),
    Invitation: lambda w: invitation_create(actor=actor_for(w.alice), organization=w.acme, email="new@acme.test")[0],
    ServiceAccount: _service_account,
    AuditEntry: lambda w: AuditEntry.dangerously_unscoped.filter(organization=w.acme).latest("created_at"),
    WorkspaceMembership: lambda w: WorkspaceMembership.dangerously_unscoped.get(workspace=w.prod, user=w.bob),
    Variable: lambda w: Variable.dangerously_unscoped.get_or_create(
        workspace=w.prod, name="matrix", defaults={"value": 1}
    )[0],
    FlowRun: _flow_run,
    TaskRun: _task_run,
    Log: _log,
    Artifact: _artifact,
    Flow: _flow,
    Deployment: _deployment,
    DeploymentSchedule: lambda w: DeploymentSchedule.dangerously_unscoped.get_or_create(
        workspace=w.prod, deployment=_deployment(w), kind="cron", cron="0 9 * * *"
    )[0],
    WorkPool: _work_pool,
    WorkQueue: _work_queue,
    Agent: _agent,
    BlockType: _block_type,
    BlockDocument: _block_document,
}


def route_model(route: ApiRoute) -> type[models.Model] | None:
    serializer = getattr(route.view_class, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)


def acme_params(route: ApiRoute, world: World) -> dict[str, Any]:
    """Values for every parameter of `route`, all pointing into acme/prod."""
    values: dict[str, Any] = {"org_slug": world.acme.slug, "ws_slug": world.prod.slug}
    if "service_account_id" in route.params:
        key = _service_account_key(world)
        values["service_account_id"] = key.service_account_id
        values["pk"] = key.pk
    elif "pk" in route.params:
        model = route_model(route)
        if model is ApiKey:
            values["pk"] = _personal_key(world).pk
        else:
            assert model in FACTORIES, (
                f"{route.template}: no object factory for {model}; add one to tests/support/matrix.py"
            )
            values["pk"] = FACTORIES[model](world).pk
    if "flow_run_id" in route.params:
        values["flow_run_id"] = _flow_run(world).pk
    if "artifact_key" in route.params:
        values["artifact_key"] = _artifact(world).key
    if "deployment_id" in route.params:
        values["deployment_id"] = _deployment(world).pk
    if "pool_id" in route.params:
        values["pool_id"] = _work_pool(world).pk
    missing = set(route.params) - set(values)
    assert not missing, f"{route.template}: no value for parameters {missing}; extend tests/support/matrix.py"
    return values


PLAUSIBLE_BODY = {"name": "matrix-x", "role": "viewer", "value": 1, "email": "x@acme.test", "slug": "matrix-x"}


def call(client: Any, method: str, url: str) -> Any:
    if method in ("GET", "DELETE"):
        return getattr(client, method.lower())(url)
    return getattr(client, method.lower())(url, PLAUSIBLE_BODY, format="json")


def table_counts() -> dict[str, int]:
    """Row counts of every tenant table: unchanged after a refused request."""
    return {model.__name__: model.dangerously_unscoped.count() for model in (*FACTORIES, ApiKey)}  # type: ignore[attr-defined]
