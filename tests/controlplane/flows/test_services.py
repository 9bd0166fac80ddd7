from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from controlplane.audit.models import AuditEntry
from controlplane.core.errors import Conflict, NotFound, ValidationFailed
from controlplane.core.tenancy import tenant_scope
from controlplane.flows.models import Deployment, Flow
from controlplane.flows.selectors import deployment_by_full_name, deployment_by_name
from controlplane.flows.services import (
    deployment_delete,
    deployment_set_paused,
    deployment_update,
    deployment_upsert,
    flow_delete,
    flow_get_or_create,
)
from controlplane.workpools.models import WorkPool, WorkQueue
from controlplane.workpools.services import work_pool_create, work_queue_create
from tests.support.tenants import World, actor_for

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def _deploy(world: World, **fields: Any) -> tuple[Deployment, bool]:
    fields.setdefault("flow_name", "etl")
    fields.setdefault("name", "nightly")
    fields.setdefault("entrypoint", "flows/etl.py:etl")
    return deployment_upsert(actor=actor_for(world.alice), workspace=world.prod, **fields)


def _actions() -> list[str]:
    entries = AuditEntry.dangerously_unscoped.filter(action__regex=r"^(deployment|flow)\.").order_by("created_at")
    return list(entries.values_list("action", flat=True))


def test_flow_get_or_create_is_keyed_by_name(prod: World) -> None:
    first, created = flow_get_or_create(workspace=prod.prod, name="etl", tags=["a"])
    again, created_again = flow_get_or_create(workspace=prod.prod, name="etl", tags=["b"])
    assert (created, created_again, again.pk, again.tags) == (True, False, first.pk, ["a"])


def test_upsert_creates_then_updates_one_row_keeping_omitted_fields(prod: World) -> None:
    deployment, created = _deploy(prod, description="first", tags=["x"], retries=2)
    assert created is True
    again, created_again = _deploy(prod, entrypoint="flows/etl.py:etl_v2", retries=3)
    assert (created_again, again.pk) == (False, deployment.pk)
    stored = Deployment.objects.get()
    assert (stored.entrypoint, stored.retries, stored.description, stored.tags) == (
        "flows/etl.py:etl_v2",
        3,
        "first",
        ["x"],
    )
    assert Flow.objects.count() == 1
    assert _actions() == ["deployment.created", "deployment.updated"]
    updated = AuditEntry.dangerously_unscoped.get(action="deployment.updated")
    assert updated.changes == {"entrypoint": ["flows/etl.py:etl", "flows/etl.py:etl_v2"], "retries": [2, 3]}
    assert updated.target_label == "etl/nightly"


def test_deploying_the_same_thing_again_writes_nothing(prod: World) -> None:
    deployment, _ = _deploy(prod, parameters={"n": 1})
    _deploy(prod, parameters={"n": 1})
    assert Deployment.objects.get().updated_at == deployment.updated_at
    assert _actions() == ["deployment.created"]


def test_a_deployment_goes_to_its_pools_default_queue_unless_named(prod: World) -> None:
    alice = actor_for(prod.alice)
    pool = work_pool_create(actor=alice, workspace=prod.prod, name="main")
    urgent = work_queue_create(actor=alice, pool=pool, name="urgent")
    deployment, _ = _deploy(prod, work_pool_name="main")
    assert (deployment.work_pool, deployment.work_queue.name) == (pool, "default")  # type: ignore[union-attr]
    deployment = deployment_update(actor=alice, deployment=deployment, work_queue_name="urgent")
    assert deployment.work_queue == urgent
    # Another pool without a queue name: that pool's default queue, never a queue of the old pool.
    other = work_pool_create(actor=alice, workspace=prod.prod, name="other")
    deployment = deployment_update(actor=alice, deployment=deployment, work_pool_name="other")
    assert (deployment.work_pool, deployment.work_queue.pool) == (other, other)  # type: ignore[union-attr]
    deployment = deployment_update(actor=alice, deployment=deployment, work_pool_name=None)
    assert (deployment.work_pool, deployment.work_queue) == (None, None)
    stored = Deployment.objects.get()
    assert (stored.work_pool_id, stored.work_queue_id) == (None, None)


def test_a_queue_of_another_pool_is_not_found(prod: World) -> None:
    alice = actor_for(prod.alice)
    work_pool_create(actor=alice, workspace=prod.prod, name="main")
    other = work_pool_create(actor=alice, workspace=prod.prod, name="other")
    work_queue_create(actor=alice, pool=other, name="gpu")
    with pytest.raises(NotFound, match="gpu"):
        _deploy(prod, work_pool_name="main", work_queue_name="gpu")
    assert Deployment.objects.count() == 0


def test_pools_are_looked_up_in_the_current_workspace_only_and_nothing_is_written(world: World) -> None:
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.staging.id):
        work_pool_create(actor=actor_for(world.alice), workspace=world.staging, name="staging-pool")
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id), pytest.raises(NotFound):
        _deploy(world, flow_name="brand-new-flow", work_pool_name="staging-pool")
    assert Flow.dangerously_unscoped.filter(name="brand-new-flow").count() == 0
    assert Deployment.dangerously_unscoped.count() == 0


def test_a_queue_without_a_pool_is_refused(prod: World) -> None:
    with pytest.raises(ValidationFailed, match="work_queue_name needs a work pool"):
        _deploy(prod, work_queue_name="default")


def test_parameters_are_validated_against_an_enforced_schema(prod: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _deploy(prod, parameter_schema=SCHEMA, parameters={"n": "one"})
    assert caught.value.details["paths"] == ["n"]
    # Defaults may leave a required parameter to each run.
    deployment, _ = _deploy(prod, parameter_schema=SCHEMA, parameters={})
    with pytest.raises(ValidationFailed):
        deployment_update(actor=actor_for(prod.alice), deployment=deployment, parameters={"n": "one"})
    deployment_update(
        actor=actor_for(prod.alice), deployment=deployment, enforce_parameter_schema=False, parameters={"n": "one"}
    )
    assert Deployment.objects.get().parameters == {"n": "one"}
    # Turning enforcement back on checks the stored defaults again.
    with pytest.raises(ValidationFailed):
        deployment_update(actor=actor_for(prod.alice), deployment=deployment, enforce_parameter_schema=True)


def test_an_invalid_schema_is_refused_even_when_not_enforced(prod: World) -> None:
    with pytest.raises(ValidationFailed, match="not a valid JSON Schema"):
        _deploy(prod, parameter_schema={"type": "objekt"}, enforce_parameter_schema=False)
    assert Deployment.objects.count() == 0


def test_renaming_onto_an_existing_deployment_is_a_conflict(prod: World) -> None:
    _deploy(prod, name="a")
    b, _ = _deploy(prod, name="b")
    with pytest.raises(Conflict):
        deployment_update(actor=actor_for(prod.alice), deployment=b, name="a")
    assert sorted(Deployment.objects.values_list("name", flat=True)) == ["a", "b"]


def test_pause_resume_and_delete_are_audited(prod: World) -> None:
    alice = actor_for(prod.alice)
    deployment, _ = _deploy(prod)
    deployment_set_paused(actor=alice, deployment=deployment, paused=True)
    deployment_set_paused(actor=alice, deployment=deployment, paused=True)
    deployment_set_paused(actor=alice, deployment=deployment, paused=False)
    deployment_delete(actor=alice, deployment=deployment)
    assert _actions() == ["deployment.created", "deployment.paused", "deployment.resumed", "deployment.deleted"]
    assert Deployment.objects.count() == 0


def test_deleting_a_flow_deletes_its_deployments(prod: World) -> None:
    deployment, _ = _deploy(prod)
    flow_delete(actor=actor_for(prod.alice), flow=deployment.flow)
    assert (Flow.objects.count(), Deployment.objects.count()) == (0, 0)
    assert AuditEntry.dangerously_unscoped.get(action="flow.deleted").changes == {
        "name": "etl",
        "deployments_deleted": 1,
    }


def test_deployments_resolve_by_flow_and_deployment_name(prod: World) -> None:
    deployment, _ = _deploy(prod)
    assert deployment_by_name(flow_name="etl", deployment_name="nightly") == deployment
    assert deployment_by_full_name("etl/nightly") == deployment
    for missing in ("etl/other", "other/nightly", "etl", "/nightly", "etl/"):
        with pytest.raises(NotFound):
            deployment_by_full_name(missing)


def test_another_workspaces_deployment_does_not_resolve(world: World) -> None:
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.staging.id):
        deployment_upsert(
            actor=actor_for(world.alice),
            workspace=world.staging,
            flow_name="etl",
            name="nightly",
            entrypoint="a.py:f",
        )
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id), pytest.raises(NotFound):
        deployment_by_full_name("etl/nightly")


@pytest.mark.django_db(transaction=True)
def test_concurrent_deploys_of_one_name_make_one_deployment() -> None:
    from tests.support.tenants import build_world

    world = build_world()
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        flow_get_or_create(workspace=world.prod, name="etl")
    barrier = threading.Barrier(6)
    results: list[bool] = []
    errors: list[BaseException] = []

    def deploy(index: int) -> None:
        try:
            barrier.wait()
            with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
                _, created = _deploy(world, retries=index)
            results.append(created)
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deploy, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    assert Deployment.dangerously_unscoped.filter(workspace=world.prod).count() == 1
    assert WorkPool.dangerously_unscoped.count() == WorkQueue.dangerously_unscoped.count() == 0
