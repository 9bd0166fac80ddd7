"""Job variables are checked against the pool type's schema (or the pool's own) on every deployment write."""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.core.tenancy import tenant_scope
from controlplane.flows.models import Deployment
from controlplane.workpools.job_variables import resolved_job_variables
from controlplane.workpools.models import WorkPool
from controlplane.workpools.services import work_pool_create
from tests.support.clients import session
from tests.support.tenants import World, actor_for

DEPLOYMENTS = "/api/v1/orgs/acme/workspaces/prod/deployments/"


def _pool(world: World, name: str, type: str, base_job_template: dict[str, Any] | None = None) -> WorkPool:
    with tenant_scope(organization_id=world.prod.organization_id, workspace_id=world.prod.id):
        return work_pool_create(
            actor=actor_for(world.alice),
            workspace=world.prod,
            name=name,
            type=type,
            base_job_template=base_job_template,
        )


def _deploy(world: World, pool: str, job_variables: Any, name: str = "nightly") -> Any:
    body = {"flow_name": "etl", "name": name, "entrypoint": "etl.py:etl", "work_pool_name": pool}
    return session(world.alice).post(DEPLOYMENTS, {**body, "job_variables": job_variables}, format="json")


def _details(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.content
    details: dict[str, Any] = response.json()["error"]["details"]
    return details


def test_kubernetes_job_variables_are_checked_field_by_field(world: World) -> None:
    _pool(world, "k8s", "kubernetes")
    details = _details(
        _deploy(
            world,
            "k8s",
            {
                "image": 42,
                "namespace": "Not_A_Namespace",
                "resources": {"limits": {"memory": 512}},
                "node_selector": {"zone": ["a"]},
                "replicas": 3,
            },
        )
    )
    assert set(details) == {
        "job_variables.image",
        "job_variables.namespace",
        "job_variables.resources.limits.memory",
        "job_variables.node_selector.zone",
        "job_variables.replicas",
    }
    assert Deployment.dangerously_unscoped.count() == 0


def test_the_image_is_required_unless_the_pool_gives_one(world: World) -> None:
    _pool(world, "docker", "docker")
    assert set(_details(_deploy(world, "docker", {"env": {"A": "1"}}))) == {"job_variables.image"}
    assert _deploy(world, "docker", {"image": "registry.example/etl:3"}).status_code == 201

    schema = {
        "type": "object",
        "properties": {"image": {"type": "string", "default": "registry.example/base:1"}, "env": {"type": "object"}},
        "required": ["image"],
        "additionalProperties": False,
    }
    pool = _pool(world, "docker-with-image", "docker", {"variables": schema})
    assert _deploy(world, "docker-with-image", {"env": {"A": "1"}}, name="other").status_code == 201
    assert resolved_job_variables(pool, {"env": {"A": "1"}}) == {"image": "registry.example/base:1", "env": {"A": "1"}}


def test_process_pools_take_env_and_block_references_only(world: World) -> None:
    _pool(world, "local", "process")
    assert set(_details(_deploy(world, "local", {"image": "x"}))) == {"job_variables.image"}
    ok = _deploy(world, "local", {"env": {"LEVEL": "info", "RETRIES": 3}})
    assert ok.status_code == 201, ok.content


def test_an_update_and_a_move_to_another_pool_are_checked_too(world: World) -> None:
    _pool(world, "local", "process")
    _pool(world, "k8s", "kubernetes")
    created = _deploy(world, "local", {"env": {"A": "1"}})
    assert created.status_code == 201
    url = f"{DEPLOYMENTS}{created.json()['id']}/"
    alice = session(world.alice)
    assert set(_details(alice.patch(url, {"job_variables": {"env": {"A": [1]}}}, format="json"))) == {
        "job_variables.env.A"
    }
    # The kubernetes pool needs an image that these variables do not have.
    assert set(_details(alice.patch(url, {"work_pool_name": "k8s"}, format="json"))) == {"job_variables.image"}
    moved = alice.patch(url, {"work_pool_name": "k8s", "job_variables": {"image": "etl:2"}}, format="json")
    assert moved.status_code == 200, moved.content


@pytest.mark.parametrize("value", [[], "image", 3])
def test_job_variables_must_be_an_object(world: World, value: Any) -> None:
    _pool(world, "local", "process")
    assert _deploy(world, "local", value).status_code in (400, 422)
