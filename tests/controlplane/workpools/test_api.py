from __future__ import annotations

from typing import Any

import pytest

from controlplane.audit.models import AuditEntry
from controlplane.core.tenancy import tenant_scope
from controlplane.workpools.models import WorkPool, WorkQueue
from controlplane.workpools.services import work_pool_create
from tests.support.clients import session
from tests.support.tenants import World, actor_for

POOLS = "/api/v1/orgs/acme/workspaces/prod/work-pools/"


def _pool(world: World, name: str = "main", workspace: Any = None) -> WorkPool:
    workspace = workspace or world.prod
    owner = world.charlie if workspace == world.umbrella_prod else world.alice
    with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
        return work_pool_create(actor=actor_for(owner), workspace=workspace, name=name)


def test_creating_a_pool_creates_its_default_queue(world: World) -> None:
    alice = session(world.alice)
    response = alice.post(POOLS, {"name": "docker-pool", "type": "docker", "concurrency_limit": 4}, format="json")
    assert response.status_code == 201, response.content
    pool = response.json()
    assert (pool["name"], pool["type"], pool["concurrency_limit"], pool["paused"]) == (
        "docker-pool",
        "docker",
        4,
        False,
    )
    queues = alice.get(f"{POOLS}{pool['id']}/queues/").json()["results"]
    assert [(q["name"], q["priority"], q["is_default"]) for q in queues] == [("default", 1, True)]


def test_a_duplicate_pool_name_is_a_409(world: World) -> None:
    alice = session(world.alice)
    assert alice.post(POOLS, {"name": "main"}, format="json").status_code == 201
    response = alice.post(POOLS, {"name": "main"}, format="json")
    assert response.status_code == 409
    assert WorkPool.dangerously_unscoped.filter(workspace=world.prod).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a/b"},
        {"name": "bad\x00name"},
        {"name": "x" * 101},
        {"name": "ok", "type": "lambda"},
        {"name": "ok", "concurrency_limit": -1},
        {"name": "ok", "base_job_template": ["not", "an", "object"]},
        {"name": "ok", "base_job_template": {"env": "nul\x00"}},
    ],
)
def test_bad_pool_input_is_a_clear_400(world: World, body: dict[str, Any]) -> None:
    response = session(world.alice).post(POOLS, body, format="json")
    assert response.status_code == 400, response.content
    # NUL characters are refused by the JSON parser itself, the rest by field validation.
    assert response.json()["error"]["code"] in ("invalid", "parse_error")
    assert WorkPool.dangerously_unscoped.count() == 0


def test_list_filters_by_name_sorts_by_name_and_shows_only_this_workspace(world: World) -> None:
    for name in ("zeta", "alpha", "mid"):
        _pool(world, name)
    _pool(world, "staging-pool", world.staging)
    _pool(world, "umbrella-pool", world.umbrella_prod)
    alice = session(world.alice)
    assert [p["name"] for p in alice.get(POOLS).json()["results"]] == ["alpha", "mid", "zeta"]
    assert [p["name"] for p in alice.get(f"{POOLS}?name=mid").json()["results"]] == ["mid"]
    assert alice.get(f"{POOLS}?name=staging-pool").json()["results"] == []
    assert alice.get(f"{POOLS}?name=a%00b").status_code == 400


def test_listing_pools_and_queues_takes_a_constant_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for index in range(30):
        pool = _pool(world, f"pool-{index:02}")
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        for index in range(30):
            WorkQueue.objects.create(workspace=world.prod, pool=pool, name=f"q{index}", priority=index + 2)
    alice = session(world.alice)
    alice.get(POOLS)  # warm the session
    with django_assert_max_num_queries(5):
        assert len(alice.get(f"{POOLS}?page_size=200").json()["results"]) == 30
    with django_assert_max_num_queries(6):
        assert len(alice.get(f"{POOLS}{pool.id}/queues/?page_size=200").json()["results"]) == 31


def test_patch_changes_allowed_fields_and_ignores_type_and_tenant_fields(world: World) -> None:
    pool = _pool(world)
    response = session(world.alice).patch(
        f"{POOLS}{pool.id}/",
        {"description": "GPU boxes", "type": "kubernetes", "workspace": str(world.umbrella_prod.id)},
        format="json",
    )
    assert response.status_code == 200
    stored = WorkPool.dangerously_unscoped.get(pk=pool.pk)
    assert (stored.description, stored.type, stored.workspace_id) == ("GPU boxes", "process", world.prod.id)


def test_pause_and_resume_a_pool_are_audited(world: World) -> None:
    pool = _pool(world)
    alice = session(world.alice)
    assert alice.post(f"{POOLS}{pool.id}/pause/").json()["paused"] is True
    assert WorkPool.dangerously_unscoped.get(pk=pool.pk).paused is True
    assert alice.post(f"{POOLS}{pool.id}/resume/").json()["paused"] is False
    actions = set(AuditEntry.dangerously_unscoped.filter(workspace=world.prod).values_list("action", flat=True))
    assert {"work_pool.created", "work_pool.paused", "work_pool.resumed"} <= actions


def test_queue_lifecycle(world: World) -> None:
    pool = _pool(world)
    alice = session(world.alice)
    queues = f"{POOLS}{pool.id}/queues/"
    created = alice.post(queues, {"name": "urgent", "priority": 2, "concurrency_limit": 1}, format="json")
    assert created.status_code == 201, created.content
    queue_id = created.json()["id"]
    patched = alice.patch(f"{queues}{queue_id}/", {"priority": 3, "paused": True}, format="json").json()
    assert (patched["priority"], patched["paused"], patched["pool_name"]) == (3, True, "main")
    assert alice.post(f"{queues}{queue_id}/resume/").json()["paused"] is False
    assert [q["name"] for q in alice.get(queues).json()["results"]] == ["default", "urgent"]
    assert alice.delete(f"{queues}{queue_id}/").status_code == 204
    assert alice.post(queues, {"name": "default"}, format="json").status_code == 409
    actions = set(AuditEntry.dangerously_unscoped.filter(workspace=world.prod).values_list("action", flat=True))
    assert {"work_queue.created", "work_queue.updated", "work_queue.resumed", "work_queue.deleted"} <= actions


def test_the_default_queue_cannot_be_deleted_or_renamed(world: World) -> None:
    pool = _pool(world)
    default = WorkQueue.dangerously_unscoped.get(pool=pool, name="default")
    alice = session(world.alice)
    response = alice.delete(f"{POOLS}{pool.id}/queues/{default.id}/")
    assert response.status_code == 409
    assert "default" in response.json()["error"]["message"]
    assert alice.patch(f"{POOLS}{pool.id}/queues/{default.id}/", {"name": "x"}, format="json").status_code == 409
    assert WorkQueue.dangerously_unscoped.filter(pk=default.pk, name="default").exists()


def test_a_queue_is_only_found_under_its_own_pool(world: World) -> None:
    first, second = _pool(world, "first"), _pool(world, "second")
    queue = WorkQueue.dangerously_unscoped.get(pool=first)
    alice = session(world.alice)
    assert alice.get(f"{POOLS}{second.id}/queues/{queue.id}/").status_code == 404
    assert alice.delete(f"{POOLS}{second.id}/queues/{queue.id}/").status_code == 404
    assert WorkQueue.dangerously_unscoped.filter(pk=queue.pk).exists()


def test_another_workspaces_pool_is_not_found(world: World) -> None:
    staging_pool = _pool(world, "hidden", world.staging)
    alice = session(world.alice)
    assert alice.get(f"{POOLS}{staging_pool.id}/").status_code == 404
    assert alice.get(f"{POOLS}{staging_pool.id}/queues/").status_code == 404
    response = alice.post(f"{POOLS}{staging_pool.id}/queues/", {"name": "sneaky"}, format="json")
    assert response.status_code == 404
    assert WorkQueue.dangerously_unscoped.filter(name="sneaky").count() == 0


def test_a_viewer_can_read_pools_but_not_change_them(world: World) -> None:
    pool = _pool(world)
    bob = session(world.bob)
    assert bob.get(POOLS).status_code == 200
    assert bob.get(f"{POOLS}{pool.id}/queues/").status_code == 200
    refused = [
        bob.post(POOLS, {"name": "mine"}, format="json"),
        bob.patch(f"{POOLS}{pool.id}/", {"description": "x"}, format="json"),
        bob.post(f"{POOLS}{pool.id}/pause/"),
        bob.delete(f"{POOLS}{pool.id}/"),
        bob.post(f"{POOLS}{pool.id}/queues/", {"name": "q"}, format="json"),
    ]
    assert [response.status_code for response in refused] == [403] * 5
    stored = WorkPool.dangerously_unscoped.get(pk=pool.pk)
    assert (stored.description, stored.paused, WorkPool.dangerously_unscoped.count()) == ("", False, 1)
    assert WorkQueue.dangerously_unscoped.count() == 1
