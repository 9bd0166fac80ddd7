"""Writes for work pools and their queues. Every change is audited.

Each pool has a queue named `default` (priority 1), created with it and never deleted or
renamed: deployments and runs that name no queue go there.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from controlplane.audit.services import audit_diff, audit_workspace_record
from controlplane.core.errors import Conflict, ValidationFailed, unique_or_conflict
from controlplane.events.services import event_build, events_record, resource
from controlplane.flows.parameters import check_parameter_schema
from controlplane.orgs.models import Workspace
from controlplane.orgs.principals import Actor
from controlplane.workpools.customizations import check_customizations
from controlplane.workpools.models import WorkPool, WorkPoolType, WorkQueue
from controlplane.workpools.selectors import DEFAULT_QUEUE_NAME, is_default_queue

# Values of these fields are recorded in audit entries; JSON fields are only marked "changed"
# (a job template may carry values nobody should read back from the audit log).
_AUDITED_VALUES = frozenset({"name", "type", "description", "priority", "concurrency_limit", "paused"})


def _audit_changes(before: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return audit_diff({field: (before[field], value) for field, value in changes.items()}, shown=_AUDITED_VALUES)


def _check_job_template(template: dict[str, Any]) -> None:
    """The template's `variables` are the JSON Schema of what deployments may set in `job_variables`."""
    variables = template.get("variables")
    if variables is None:
        return
    if not isinstance(variables, dict):
        raise ValidationFailed(
            "base_job_template.variables must be a JSON Schema object.",
            details={"base_job_template.variables": ["Expected an object."]},
        )
    check_parameter_schema(variables, field="base_job_template.variables")
    customizations = (variables.get("properties") or {}).get("customizations")
    if isinstance(customizations, dict):
        check_customizations(
            customizations.get("default"), field="base_job_template.variables.properties.customizations.default"
        )


def _audit(actor: Actor, action: str, target: WorkPool | WorkQueue, changes: dict[str, Any] | None = None) -> None:
    audit_workspace_record(actor=actor, action=action, target=target, changes=changes)


def _event(target: WorkPool | WorkQueue, action: str, payload: dict[str, Any] | None = None) -> None:
    """Record `tether.work-pool.<action>` or `tether.work-queue.<action>` in the caller's transaction."""
    if isinstance(target, WorkQueue):
        kind, related = "work-queue", [resource("work-pool", target.pool.pk, target.pool.name)]
    else:
        kind, related = "work-pool", []
    event = event_build(
        workspace_id=target.workspace_id,
        event=f"tether.{kind}.{action}",
        occurred=timezone.now(),
        resource=resource(kind, target.pk, target.name),
        related=related,
        payload=payload,
    )
    events_record([event])


def _changed_events(target: WorkPool | WorkQueue, changes: dict[str, Any], before: dict[str, Any]) -> None:
    changed = sorted(field for field, value in changes.items() if before[field] != value)
    if changed:
        # Field names only: a job template may carry values event readers should not see.
        _event(target, "updated", {"changed": changed})
    if "paused" in changed:
        _event(target, "paused" if target.paused else "resumed")


@transaction.atomic
def work_pool_create(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    type: str = WorkPoolType.PROCESS,
    description: str = "",
    base_job_template: dict[str, Any] | None = None,
    concurrency_limit: int | None = None,
    paused: bool = False,
) -> WorkPool:
    """Create a pool and its `default` queue in one transaction."""
    _check_job_template(base_job_template or {})
    with unique_or_conflict(f"A work pool named {name!r} already exists.", field="name"):
        pool: WorkPool = WorkPool.objects.create(
            workspace=workspace,
            name=name,
            type=type,
            description=description,
            base_job_template=base_job_template or {},
            concurrency_limit=concurrency_limit,
            paused=paused,
        )
    WorkQueue.objects.create(
        workspace=workspace,
        pool=pool,
        name=DEFAULT_QUEUE_NAME,
        description="Runs that name no queue.",
        priority=1,
    )
    _audit(actor, "work_pool.created", pool, {"name": name, "type": type})
    _event(pool, "created", {"type": type})
    return pool


@transaction.atomic
def work_pool_update(*, actor: Actor, pool: WorkPool, **changes: Any) -> WorkPool:
    if "base_job_template" in changes:
        _check_job_template(changes["base_job_template"])
    before = {field: getattr(pool, field) for field in changes}
    for field, value in changes.items():
        setattr(pool, field, value)
    with unique_or_conflict(f"A work pool named {pool.name!r} already exists.", field="name"):
        pool.save(update_fields=[*changes, "updated_at"])
    audited = _audit_changes(before, changes)
    if audited:
        _audit(actor, "work_pool.updated", pool, audited)
    _changed_events(pool, changes, before)
    return pool


@transaction.atomic
def work_pool_set_paused(*, actor: Actor, pool: WorkPool, paused: bool) -> WorkPool:
    """Pause (agents claim nothing from it) or resume a pool. Repeating it changes nothing."""
    if pool.paused != paused:
        pool.paused = paused
        pool.save(update_fields=["paused", "updated_at"])
        _audit(actor, "work_pool.paused" if paused else "work_pool.resumed", pool)
        _event(pool, "paused" if paused else "resumed")
    return pool


@transaction.atomic
def work_pool_delete(*, actor: Actor, pool: WorkPool) -> None:
    """Delete a pool and its queues. Its deployments stay, with no pool, until given another."""
    detached = pool.deployments.count()
    _audit(actor, "work_pool.deleted", pool, {"name": pool.name, "deployments_detached": detached})
    _event(pool, "deleted")
    pool.delete()


@transaction.atomic
def work_queue_create(
    *,
    actor: Actor,
    pool: WorkPool,
    name: str,
    description: str = "",
    priority: int = 1,
    concurrency_limit: int | None = None,
    paused: bool = False,
) -> WorkQueue:
    with unique_or_conflict(f"Work pool {pool.name!r} already has a queue named {name!r}.", field="name"):
        queue: WorkQueue = WorkQueue.objects.create(
            workspace=pool.workspace,
            pool=pool,
            name=name,
            description=description,
            priority=priority,
            concurrency_limit=concurrency_limit,
            paused=paused,
        )
    _audit(actor, "work_queue.created", queue, {"pool": pool.name, "name": name, "priority": priority})
    _event(queue, "created")
    return queue


@transaction.atomic
def work_queue_update(*, actor: Actor, queue: WorkQueue, **changes: Any) -> WorkQueue:
    if "name" in changes and changes["name"] != queue.name and is_default_queue(queue):
        raise Conflict(
            f"The {DEFAULT_QUEUE_NAME!r} queue cannot be renamed: runs that name no queue go there.",
            details={"name": ["default queue"]},
        )
    before = {field: getattr(queue, field) for field in changes}
    for field, value in changes.items():
        setattr(queue, field, value)
    with unique_or_conflict(f"Work pool {queue.pool.name!r} already has a queue named {queue.name!r}.", field="name"):
        queue.save(update_fields=[*changes, "updated_at"])
    audited = _audit_changes(before, changes)
    if audited:
        _audit(actor, "work_queue.updated", queue, audited)
    _changed_events(queue, changes, before)
    return queue


@transaction.atomic
def work_queue_set_paused(*, actor: Actor, queue: WorkQueue, paused: bool) -> WorkQueue:
    if queue.paused != paused:
        queue.paused = paused
        queue.save(update_fields=["paused", "updated_at"])
        _audit(actor, "work_queue.paused" if paused else "work_queue.resumed", queue)
        _event(queue, "paused" if paused else "resumed")
    return queue


@transaction.atomic
def work_queue_delete(*, actor: Actor, queue: WorkQueue) -> None:
    """Delete a queue; its deployments move to the pool's default queue. The default queue stays."""
    if is_default_queue(queue):
        raise Conflict(
            f"The {DEFAULT_QUEUE_NAME!r} queue of a pool cannot be deleted: runs that name no queue go there.",
            details={"queue": ["default queue"]},
        )
    default = WorkQueue.objects.get(pool_id=queue.pool_id, name=DEFAULT_QUEUE_NAME)
    moved = queue.deployments.update(work_queue=default)
    _audit(
        actor, "work_queue.deleted", queue, {"pool": queue.pool.name, "name": queue.name, "deployments_moved": moved}
    )
    _event(queue, "deleted", {"deployments_moved": moved})
    queue.delete()
