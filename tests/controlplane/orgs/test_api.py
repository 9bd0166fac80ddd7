"""The organisation and workspace API: ownership fields cannot be forged, bad input gets a 4xx."""

from __future__ import annotations

import pytest

from controlplane.flows.models import Variable
from controlplane.orgs.models import Organization, OrgMembership, Workspace, WorkspaceMembership
from tests.support.clients import bearer, session
from tests.support.tenants import World, service_account_key

PROD = "/api/v1/orgs/acme/workspaces/prod"


def test_me_shows_profile_and_memberships(world: World) -> None:
    client = session(world.bob)
    body = client.get("/api/v1/me/").json()
    assert body["email"] == "bob@acme.test"
    assert body["organizations"] == [{"slug": "acme", "name": "Acme", "role": "member"}]
    assert client.patch("/api/v1/me/", {"name": "Bob B."}, format="json").json()["name"] == "Bob B."


def test_me_refuses_service_accounts(world: World) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker")
    assert bearer(secret).get("/api/v1/me/").status_code == 403


def test_create_org_makes_the_caller_owner_and_refuses_taken_or_reserved_slugs(world: World) -> None:
    client = session(world.charlie)
    created = client.post("/api/v1/orgs/", {"slug": "initech", "name": "Initech"}, format="json")
    assert created.status_code == 201
    assert created.json()["role"] == "owner"
    assert client.post("/api/v1/orgs/", {"slug": "acme", "name": "Mine"}, format="json").status_code == 409
    assert client.post("/api/v1/orgs/", {"slug": "api", "name": "X"}, format="json").status_code == 422
    assert client.post("/api/v1/orgs/", {"slug": "Not A Slug", "name": "X"}, format="json").status_code == 400
    assert Organization.objects.get(slug="acme").name == "Acme"


def test_patching_ownership_fields_is_ignored(world: World) -> None:
    """RELIABILITY 14: workspace, organization, role, owner, created_by in a body change nothing."""
    alice = session(world.alice)
    variable = Variable.dangerously_unscoped.create(workspace=world.prod, name="v", value=1)
    forged = {
        "workspace": str(world.umbrella_prod.id),
        "organization": str(world.umbrella.id),
        "created_by": str(world.charlie.id),
        "id": str(world.umbrella.id),
        "value": 2,
    }
    response = alice.patch(f"{PROD}/variables/{variable.pk}/", forged, format="json")
    assert response.status_code == 200
    variable.refresh_from_db()
    assert variable.workspace_id == world.prod.id
    assert variable.value == 2
    assert variable.pk != world.umbrella.id

    alice.patch(f"{PROD}/", {"name": "Production", "organization": str(world.umbrella.id)}, format="json")
    assert Workspace.objects.get(pk=world.prod.pk).organization_id == world.acme.id

    bob_membership = OrgMembership.dangerously_unscoped.get(organization=world.acme, user=world.bob)
    response = alice.patch(
        f"/api/v1/orgs/acme/members/{bob_membership.pk}/",
        {"role": "admin", "organization": str(world.umbrella.id), "user": str(world.charlie.id)},
        format="json",
    )
    assert response.status_code == 200
    bob_membership.refresh_from_db()
    assert (bob_membership.organization_id, bob_membership.user_id, bob_membership.role) == (
        world.acme.id,
        world.bob.id,
        "admin",
    )


def test_references_to_another_tenants_objects_are_not_found(world: World) -> None:
    """RELIABILITY 13: a foreign service account, user or workspace in a body → 404, nothing written."""
    alice = session(world.alice)
    charlie_sa, _ = service_account_key(world.charlie, world.umbrella_prod, "worker")
    before = WorkspaceMembership.dangerously_unscoped.count()
    response = alice.post(
        f"{PROD}/members/", {"service_account_id": str(charlie_sa.id), "role": "worker"}, format="json"
    )
    assert response.status_code == 404
    response = alice.post(f"{PROD}/members/", {"user_id": str(world.charlie.id), "role": "viewer"}, format="json")
    assert response.status_code == 404
    assert WorkspaceMembership.dangerously_unscoped.count() == before
    response = alice.post(
        "/api/v1/orgs/acme/invitations/",
        {"email": "x@y.test", "workspace": "umbrella-only", "workspace_role": "viewer"},
        format="json",
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name",
    ["bad\x00name", "x" * 100_000, "UPPER", "", "spaces are bad"],
)
def test_bad_variable_names_are_a_clear_400(world: World, name: str) -> None:
    response = session(world.alice).post(f"{PROD}/variables/", {"name": name, "value": 1}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["details"]


def test_variable_value_size_is_limited_with_a_clear_422(world: World) -> None:
    response = session(world.alice).post(f"{PROD}/variables/", {"name": "big", "value": "x" * 70_000}, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"limit_bytes": 65536}


def test_duplicate_variable_is_a_409(world: World) -> None:
    alice = session(world.alice)
    assert alice.post(f"{PROD}/variables/", {"name": "dup", "value": 1}, format="json").status_code == 201
    assert alice.post(f"{PROD}/variables/", {"name": "dup", "value": 2}, format="json").status_code == 409


def test_pagination_caps_page_size_and_rejects_bad_cursors(world: World) -> None:
    """RELIABILITY 26."""
    for index in range(5):
        Variable.dangerously_unscoped.create(workspace=world.prod, name=f"v{index}", value=index)
    alice = session(world.alice)
    huge = alice.get(f"{PROD}/variables/?page_size=1000000").json()
    assert len(huge["results"]) == 5
    assert alice.get(f"{PROD}/variables/?page_size=-5").status_code == 200
    two = alice.get(f"{PROD}/variables/?page_size=2").json()
    assert len(two["results"]) == 2
    assert two["next"]
    follow = alice.get(two["next"]).json()
    assert {v["name"] for v in follow["results"]}.isdisjoint({v["name"] for v in two["results"]})
    bad = alice.get(f"{PROD}/variables/?cursor=not-a-cursor")
    assert bad.status_code == 400
    assert "cursor" in bad.json()["error"]["details"]


def test_lists_only_show_the_callers_workspace(world: World) -> None:
    """RELIABILITY 12."""
    Variable.dangerously_unscoped.create(workspace=world.prod, name="acme-secret-name", value=1)
    Variable.dangerously_unscoped.create(workspace=world.umbrella_prod, name="umbrella-var", value=2)
    charlie = session(world.charlie)
    body = charlie.get("/api/v1/orgs/umbrella/workspaces/prod/variables/?page_size=200").json()
    assert [v["name"] for v in body["results"]] == ["umbrella-var"]
    assert "acme-secret-name" not in str(body)
