"""Writes for flows, deployments and variables."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from controlplane.audit.services import audit_diff, audit_workspace_record
from controlplane.blocks.references import block_references, source_credentials_reference
from controlplane.blocks.selectors import block_references_missing
from controlplane.core.errors import ValidationFailed, unique_or_conflict
from controlplane.events.services import event_build, events_record, resource
from controlplane.flows.models import Deployment, Flow, Variable
from controlplane.flows.parameters import check_parameter_schema, validate_parameters
from controlplane.flows.schedules.services import future_auto_runs_delete
from controlplane.flows.selectors import flow_by_id
from controlplane.orgs.models import Workspace
from controlplane.orgs.principals import Actor
from controlplane.workpools.job_variables import check_job_variables
from controlplane.workpools.models import WorkPool, WorkQueue
from controlplane.workpools.selectors import default_queue, work_pool_by_name, work_queue_by_name

VARIABLE_VALUE_MAX_BYTES = 64 * 1024


def _check_value_size(value: Any) -> None:
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > VARIABLE_VALUE_MAX_BYTES:
        raise ValidationFailed(
            f"A variable's value is limited to {VARIABLE_VALUE_MAX_BYTES} bytes of JSON; this one is {size}.",
            details={"limit_bytes": VARIABLE_VALUE_MAX_BYTES},
        )


@transaction.atomic
def variable_create(*, workspace: Workspace, name: str, value: Any, tags: list[str]) -> Variable:
    _check_value_size(value)
    with unique_or_conflict(f"A variable named {name!r} already exists.", field="name"):
        variable: Variable = Variable.objects.create(workspace=workspace, name=name, value=value, tags=tags)
    return variable


@transaction.atomic
def variable_update(*, variable: Variable, **changes: Any) -> Variable:
    if "value" in changes:
        _check_value_size(changes["value"])
    for field, value in changes.items():
        setattr(variable, field, value)
    with unique_or_conflict(f"A variable named {variable.name!r} already exists.", field="name"):
        variable.save(update_fields=[*changes, "updated_at"])
    return variable


@transaction.atomic
def variable_delete(*, variable: Variable) -> None:
    variable.delete()


# --- flows -------------------------------------------------------------------------------


@transaction.atomic
def flow_get_or_create(*, workspace: Workspace, name: str, tags: list[str] | None = None) -> tuple[Flow, bool]:
    """The flow called `name`, created on first use (deploys and locally run flows both name flows).

    Not audited: flows appear whenever code runs; their deployments are what is audited.
    """
    flow, created = Flow.objects.get_or_create(workspace=workspace, name=name, defaults={"tags": tags or []})
    return flow, created


@transaction.atomic
def flow_delete(*, actor: Actor, flow: Flow) -> None:
    """Delete a flow with its deployments and runs."""
    changes = {"name": flow.name, "deployments_deleted": flow.deployments.count()}
    audit_workspace_record(actor=actor, action="flow.deleted", target=flow, changes=changes)
    flow.delete()


# --- deployments -------------------------------------------------------------------------

# Writable deployment fields besides the placement (`work_pool_name`/`work_queue_name`).
DEPLOYMENT_FIELDS = frozenset(
    {
        "name",
        "description",
        "version",
        "entrypoint",
        "source",
        "parameters",
        "parameter_schema",
        "enforce_parameter_schema",
        "tags",
        "job_variables",
        "paused",
        "concurrency_limit",
        "collision_strategy",
        "retries",
        "retry_delay_seconds",
    }
)
# Audit entries keep these values; the others (JSON that may hold anything) are only marked "changed".
_AUDITED_VALUES = frozenset(
    {
        "name",
        "version",
        "entrypoint",
        "enforce_parameter_schema",
        "tags",
        "paused",
        "concurrency_limit",
        "collision_strategy",
        "retries",
        "retry_delay_seconds",
    }
)


def _audit_deployment(actor: Actor, action: str, deployment: Deployment, changes: dict[str, Any] | None = None) -> None:
    label = f"{deployment.flow.name}/{deployment.name}"
    audit_workspace_record(actor=actor, action=action, target=deployment, target_label=label, changes=changes)


def _deployment_event(deployment: Deployment, action: str, payload: dict[str, Any] | None = None) -> None:
    """Record `tether.deployment.<action>` in the caller's transaction (it commits or rolls back with the change)."""
    related = [resource("flow", deployment.flow_id, deployment.flow.name)]
    if deployment.work_pool is not None:
        related.append(resource("work-pool", deployment.work_pool.pk, deployment.work_pool.name))
    if deployment.work_queue is not None:
        related.append(resource("work-queue", deployment.work_queue.pk, deployment.work_queue.name))
    event = event_build(
        workspace_id=deployment.workspace_id,
        event=f"tether.deployment.{action}",
        occurred=timezone.now(),
        resource=resource("deployment", deployment.pk, deployment.name),
        related=related,
        payload=payload,
    )
    events_record([event])


def _placement(
    fields: dict[str, Any], *, pool: WorkPool | None, queue: WorkQueue | None
) -> tuple[WorkPool | None, WorkQueue | None]:
    """Resolve `work_pool_name`/`work_queue_name` (popped from `fields`) inside this workspace.

    Omitted names keep the current pool and queue; a new pool without a queue name means
    its default queue; `work_pool_name: null` detaches the deployment from any pool.
    """
    pool_given = "work_pool_name" in fields
    queue_given = "work_queue_name" in fields
    pool_name = fields.pop("work_pool_name", None)
    queue_name = fields.pop("work_queue_name", None)
    new_pool = pool
    if pool_given:
        new_pool = work_pool_by_name(name=pool_name) if pool_name is not None else None
    if new_pool is None:
        if queue_name is not None:
            raise ValidationFailed(
                "work_queue_name needs a work pool: name one with work_pool_name.",
                details={"work_queue_name": ["needs work_pool_name"]},
            )
        return None, None
    if queue_name is not None:
        return new_pool, work_queue_by_name(pool=new_pool, name=queue_name)
    if queue_given or queue is None or new_pool.pk != (pool.pk if pool else None):
        return new_pool, default_queue(pool=new_pool)
    return new_pool, queue


def _check_parameters(deployment: Deployment, changes: dict[str, tuple[Any, Any]], *, new: bool = False) -> None:
    """Check the schema and defaults the deployment will have once `changes` are applied."""

    def after(field: str) -> Any:
        return changes[field][1] if field in changes else getattr(deployment, field)

    schema, parameters = after("parameter_schema"), after("parameters")
    if (new or "parameter_schema" in changes) and schema:
        check_parameter_schema(schema)
    if new or changes.keys() & {"parameters", "parameter_schema", "enforce_parameter_schema"}:
        # A deployment's defaults may leave required parameters to each run.
        validate_parameters(schema if after("enforce_parameter_schema") else None, parameters, ignore_required=True)


def _check_job_variables(deployment: Deployment, changes: dict[str, tuple[Any, Any]], *, new: bool = False) -> None:
    """Refuse (422, naming each field) job variables that do not fit the pool's type or template."""
    if new or changes.keys() & {"job_variables", "work_pool"}:
        pool = changes["work_pool"][1] if "work_pool" in changes else deployment.work_pool
        values = changes["job_variables"][1] if "job_variables" in changes else deployment.job_variables
        check_job_variables(pool, values)


def _check_block_references(deployment: Deployment, changes: dict[str, tuple[Any, Any]], *, new: bool = False) -> None:
    """Refuse (422) a source or job variables that name blocks this workspace does not have."""
    if not new and not changes.keys() & {"source", "job_variables"}:
        return
    source = changes["source"][1] if "source" in changes else deployment.source
    job_variables = changes["job_variables"][1] if "job_variables" in changes else deployment.job_variables
    if isinstance(source, dict) and source.get("credentials_block") and source_credentials_reference(source) is None:
        raise ValidationFailed(
            "source.credentials_block must name a block as <type-slug>/<name>, {{ block.<type-slug>.<name> }} "
            "or a block id.",
            details={"source.credentials_block": ["not a block reference"]},
        )
    missing = block_references_missing(block_references(source=source, job_variables=job_variables))
    if missing:
        labels = [ref.label() for ref in missing]
        raise ValidationFailed(
            f"The deployment refers to blocks this workspace does not have: {', '.join(labels)}.",
            details={"blocks": labels},
        )


def _changes(deployment: Deployment, fields: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What `fields` (and the pool/queue they name) would change: {field: (before, after)}."""
    unknown = set(fields) - DEPLOYMENT_FIELDS - {"work_pool_name", "work_queue_name"}
    if unknown:
        raise TypeError(f"not deployment fields: {sorted(unknown)}")
    fields = dict(fields)
    pool, queue = _placement(fields, pool=deployment.work_pool, queue=deployment.work_queue)
    fields.update(work_pool=pool, work_queue=queue)
    return {
        field: (getattr(deployment, field), value)
        for field, value in fields.items()
        if getattr(deployment, field) != value
    }


def _audit_diff(changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    named = {
        field: (_name(before), _name(after)) if field in ("work_pool", "work_queue") else (before, after)
        for field, (before, after) in changes.items()
    }
    return audit_diff(named, shown={*_AUDITED_VALUES, "work_pool", "work_queue"})


def _name(obj: WorkPool | WorkQueue | None) -> str | None:
    return obj.name if obj is not None else None


def _resolve_flow(workspace: Workspace, flow_name: str | None, flow_id: uuid.UUID | None) -> Flow:
    if flow_id is not None:
        return flow_by_id(flow_id=flow_id)
    if flow_name is None:
        raise ValidationFailed("Name the deployment's flow with flow_name or flow_id.")
    flow, _ = flow_get_or_create(workspace=workspace, name=flow_name)
    return flow


@transaction.atomic
def deployment_upsert(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    flow_name: str | None = None,
    flow_id: uuid.UUID | None = None,
    **fields: Any,
) -> tuple[Deployment, bool]:
    """Create the deployment `flow/name`, or update it if it exists: `(deployment, created)`.

    What `tether deploy` calls every time. On update only the given fields change; the
    others keep their values. Pool and queue names are looked up in `workspace` only.
    """
    flow = _resolve_flow(workspace, flow_name, flow_id)
    existing = _locked(flow, name)
    if existing is None:
        try:
            with transaction.atomic():
                return _deployment_create(actor=actor, workspace=workspace, flow=flow, name=name, fields=fields), True
        except IntegrityError:
            # Another deploy of the same name committed first: update what it created.
            existing = _locked(flow, name)
            if existing is None:
                raise
    return deployment_update(actor=actor, deployment=existing, **fields), False


def _locked(flow: Flow, name: str) -> Deployment | None:
    deployment: Deployment | None = (
        Deployment.objects.select_for_update(of=("self",))
        .select_related("flow", "work_pool", "work_queue")
        .filter(flow=flow, name=name)
        .first()
    )
    return deployment


def _deployment_create(
    *, actor: Actor, workspace: Workspace, flow: Flow, name: str, fields: dict[str, Any]
) -> Deployment:
    if "entrypoint" not in fields:
        raise ValidationFailed("A new deployment needs an entrypoint.", details={"entrypoint": ["required"]})
    deployment = Deployment(workspace=workspace, flow=flow, name=name)
    changes = _changes(deployment, fields)
    _check_parameters(deployment, changes, new=True)
    _check_job_variables(deployment, changes, new=True)
    _check_block_references(deployment, changes, new=True)
    for field, (_, value) in changes.items():
        setattr(deployment, field, value)
    deployment.save()
    _audit_deployment(
        actor,
        "deployment.created",
        deployment,
        {"entrypoint": deployment.entrypoint, "work_pool": _name(deployment.work_pool)},
    )
    _deployment_event(deployment, "created")
    return deployment


@transaction.atomic
def deployment_update(*, actor: Actor, deployment: Deployment, **fields: Any) -> Deployment:
    """Change the given fields (and pool/queue by name). Nothing changed: nothing written or audited."""
    changes = _changes(deployment, fields)
    if not changes:
        return deployment
    _check_parameters(deployment, changes)
    _check_job_variables(deployment, changes)
    _check_block_references(deployment, changes)
    for field, (_, value) in changes.items():
        setattr(deployment, field, value)
    message = f"Flow {deployment.flow.name!r} already has a deployment named {deployment.name!r}."
    with unique_or_conflict(message, field="name"):
        deployment.save(update_fields=[*changes, "updated_at"])
    _audit_deployment(actor, "deployment.updated", deployment, _audit_diff(changes))
    # Field names only: values (parameters, job variables) may hold what an event reader should not see.
    _deployment_event(deployment, "updated", {"changed": sorted(changes)})
    if "paused" in changes:
        _deployment_event(deployment, "paused" if deployment.paused else "resumed")
    return deployment


@transaction.atomic
def deployment_set_paused(*, actor: Actor, deployment: Deployment, paused: bool) -> Deployment:
    """Pause (no new runs are scheduled or started from it) or resume. Repeating it changes nothing."""
    if deployment.paused != paused:
        deployment.paused = paused
        deployment.save(update_fields=["paused", "updated_at"])
        removed = future_auto_runs_delete(schedules=list(deployment.schedules.all())) if paused else 0
        action = "deployment.paused" if paused else "deployment.resumed"
        _audit_deployment(actor, action, deployment, {"future_runs_removed": removed} if paused else None)
        _deployment_event(deployment, "paused" if paused else "resumed")
    return deployment


@transaction.atomic
def deployment_delete(*, actor: Actor, deployment: Deployment) -> None:
    """Delete a deployment; its past runs stay (without a deployment)."""
    _audit_deployment(actor, "deployment.deleted", deployment, {"entrypoint": deployment.entrypoint})
    _deployment_event(deployment, "deleted")
    deployment.delete()
