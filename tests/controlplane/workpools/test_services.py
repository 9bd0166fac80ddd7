from __future__ import annotations

import pytest

from controlplane.audit.models import AuditEntry
from controlplane.core.errors import Conflict, ValidationFailed
from controlplane.flows.models import Deployment, Flow
from controlplane.workpools.models import WorkPool, WorkQueue
from controlplane.workpools.selectors import default_queue
from controlplane.workpools.services import (
    work_pool_create,
    work_pool_delete,
    work_pool_set_paused,
    work_pool_update,
    work_queue_create,
    work_queue_delete,
    work_queue_update,
)
from tests.support.tenants import World, actor_for


def _actions() -> list[str]:
    return list(AuditEntry.dangerously_unscoped.order_by("created_at").values_list("action", flat=True))


def test_a_new_pool_gets_its_default_queue_and_an_audit_entry(prod: World) -> None:
    pool = work_pool_create(actor=actor_for(prod.alice), workspace=prod.prod, name="k8s", type="kubernetes")
    queues = list(WorkQueue.objects.filter(pool=pool).values_list("name", "priority"))
    assert queues == [("default", 1)]
    entry = AuditEntry.dangerously_unscoped.get(action="work_pool.created")
    assert (entry.workspace_id, entry.actor_id, entry.target_id) == (prod.prod.id, prod.alice.id, str(pool.id))


def test_a_duplicate_pool_name_is_a_conflict_and_creates_no_queue(prod: World) -> None:
    work_pool_create(actor=actor_for(prod.alice), workspace=prod.prod, name="main")
    with pytest.raises(Conflict):
        work_pool_create(actor=actor_for(prod.alice), workspace=prod.prod, name="main")
    assert WorkPool.objects.count() == 1
    assert WorkQueue.objects.count() == 1


def test_the_default_queue_can_be_neither_deleted_nor_renamed(prod: World) -> None:
    pool = work_pool_create(actor=actor_for(prod.alice), workspace=prod.prod, name="main")
    queue = default_queue(pool=pool)
    with pytest.raises(Conflict):
        work_queue_delete(actor=actor_for(prod.alice), queue=queue)
    with pytest.raises(Conflict):
        work_queue_update(actor=actor_for(prod.alice), queue=queue, name="other")
    work_queue_update(actor=actor_for(prod.alice), queue=queue, priority=5)
    assert WorkQueue.objects.get(pk=queue.pk).name == "default"


def test_deleting_a_queue_moves_its_deployments_to_the_default_queue(prod: World) -> None:
    alice = actor_for(prod.alice)
    pool = work_pool_create(actor=alice, workspace=prod.prod, name="main")
    urgent = work_queue_create(actor=alice, pool=pool, name="urgent", priority=1)
    flow = Flow.objects.create(workspace=prod.prod, name="etl")
    deployment = Deployment.objects.create(
        workspace=prod.prod, flow=flow, name="d", entrypoint="a.py:f", work_pool=pool, work_queue=urgent
    )
    work_queue_delete(actor=alice, queue=urgent)
    deployment.refresh_from_db()
    assert deployment.work_queue == default_queue(pool=pool)
    assert "work_queue.deleted" in _actions()


def test_deleting_a_pool_keeps_its_deployments_without_a_pool(prod: World) -> None:
    alice = actor_for(prod.alice)
    pool = work_pool_create(actor=alice, workspace=prod.prod, name="main")
    flow = Flow.objects.create(workspace=prod.prod, name="etl")
    deployment = Deployment.objects.create(
        workspace=prod.prod,
        flow=flow,
        name="d",
        entrypoint="a.py:f",
        work_pool=pool,
        work_queue=default_queue(pool=pool),
    )
    work_pool_delete(actor=alice, pool=pool)
    deployment.refresh_from_db()
    assert (deployment.work_pool_id, deployment.work_queue_id) == (None, None)
    assert WorkQueue.objects.count() == 0
    entry = AuditEntry.dangerously_unscoped.get(action="work_pool.deleted")
    assert entry.changes == {"name": "main", "deployments_detached": 1}


def test_pausing_twice_is_audited_once(prod: World) -> None:
    alice = actor_for(prod.alice)
    pool = work_pool_create(actor=alice, workspace=prod.prod, name="main")
    work_pool_set_paused(actor=alice, pool=pool, paused=True)
    work_pool_set_paused(actor=alice, pool=pool, paused=True)
    assert WorkPool.objects.get(pk=pool.pk).paused is True
    work_pool_set_paused(actor=alice, pool=pool, paused=False)
    assert WorkPool.objects.get(pk=pool.pk).paused is False
    assert _actions().count("work_pool.paused") == 1
    assert _actions().count("work_pool.resumed") == 1


def test_updates_audit_what_changed_and_no_op_updates_audit_nothing(prod: World) -> None:
    alice = actor_for(prod.alice)
    pool = work_pool_create(actor=alice, workspace=prod.prod, name="main")
    work_pool_update(actor=alice, pool=pool, concurrency_limit=3, base_job_template={"job_configuration": {}})
    work_pool_update(actor=alice, pool=pool, concurrency_limit=3)
    entries = AuditEntry.dangerously_unscoped.filter(action="work_pool.updated")
    assert [entry.changes for entry in entries] == [{"concurrency_limit": [None, 3], "base_job_template": "changed"}]


def test_a_job_template_with_an_invalid_variables_schema_is_refused(prod: World) -> None:
    with pytest.raises(ValidationFailed, match=r"base_job_template\.variables"):
        work_pool_create(
            actor=actor_for(prod.alice),
            workspace=prod.prod,
            name="main",
            base_job_template={"variables": {"type": "objekt"}},
        )
    assert WorkPool.objects.count() == 0
