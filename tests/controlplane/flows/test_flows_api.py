from __future__ import annotations

from typing import Any

from controlplane.audit.models import AuditEntry
from controlplane.flows.models import Deployment, Flow
from tests.support.clients import session
from tests.support.tenants import World

FLOWS = "/api/v1/orgs/acme/workspaces/prod/flows/"


def test_create_is_get_or_create_by_name(world: World) -> None:
    alice = session(world.alice)
    first = alice.post(FLOWS, {"name": "etl", "tags": ["daily"]}, format="json")
    again = alice.post(FLOWS, {"name": "etl"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["tags"] == ["daily"]
    assert Flow.dangerously_unscoped.filter(workspace=world.prod).count() == 1


def test_flow_names_are_validated(world: World) -> None:
    alice = session(world.alice)
    for name in ("a/b", "nul\x00", "", "x" * 256):
        response = alice.post(FLOWS, {"name": name}, format="json")
        assert response.status_code == 400, name
        if "\x00" not in name:  # NUL is refused by the JSON parser, before any field is looked at
            assert "name" in response.json()["error"]["details"]
    message = alice.post(FLOWS, {"name": "a/b"}, format="json").json()["error"]["details"]["name"][0]
    assert "'%'" in message
    assert Flow.dangerously_unscoped.count() == 0


def test_list_filters_by_name_and_sorts_by_name(world: World, django_assert_max_num_queries: Any) -> None:
    for index in range(40):
        Flow.dangerously_unscoped.create(workspace=world.prod, name=f"flow-{index:02}")
    Flow.dangerously_unscoped.create(workspace=world.staging, name="staging-only")
    alice = session(world.alice)
    alice.get(FLOWS)
    with django_assert_max_num_queries(5):
        names = [flow["name"] for flow in alice.get(f"{FLOWS}?page_size=200").json()["results"]]
    assert names == [f"flow-{index:02}" for index in range(40)]
    assert [f["name"] for f in alice.get(f"{FLOWS}?name=flow-07").json()["results"]] == ["flow-07"]
    assert alice.get(f"{FLOWS}?name=staging-only").json()["results"] == []


def test_retrieve_and_delete_a_flow_with_its_deployments(world: World) -> None:
    flow = Flow.dangerously_unscoped.create(workspace=world.prod, name="etl")
    Deployment.dangerously_unscoped.create(workspace=world.prod, flow=flow, name="d", entrypoint="a.py:f")
    alice = session(world.alice)
    assert alice.get(f"{FLOWS}{flow.id}/").json()["name"] == "etl"
    assert alice.delete(f"{FLOWS}{flow.id}/").status_code == 204
    assert Deployment.dangerously_unscoped.count() == 0
    entry = AuditEntry.dangerously_unscoped.get(action="flow.deleted")
    assert (entry.workspace_id, entry.actor_id) == (world.prod.id, world.alice.id)


def test_a_viewer_can_read_flows_but_not_create_or_delete_them(world: World) -> None:
    flow = Flow.dangerously_unscoped.create(workspace=world.prod, name="etl")
    bob = session(world.bob)
    assert bob.get(FLOWS).status_code == 200
    assert bob.get(f"{FLOWS}{flow.id}/").status_code == 200
    assert bob.post(FLOWS, {"name": "mine"}, format="json").status_code == 403
    assert bob.delete(f"{FLOWS}{flow.id}/").status_code == 403
    assert list(Flow.dangerously_unscoped.values_list("name", flat=True)) == ["etl"]
