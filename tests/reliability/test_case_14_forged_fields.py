"""RELIABILITY 14: PATCHing `workspace`, `organization`, `role`, `owner`, `state` or `created_by` →
rejected or ignored, as the database shows.

Every PATCH route of the API (read from the URL resolver) gets, from acme's owner, a body of
nothing but forged ownership, tenancy and state fields pointing at umbrella and charlie. The
answer may be a 200 (ignored) or a 4xx (rejected); either way the row's tenant, owner,
creator, state and id are what they were. A member cannot raise their own role either.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from controlplane.orgs.models import OrgMembership, WorkspaceMembership
from tests.support.clients import session
from tests.support.matrix import acme_params, route_model
from tests.support.routes import ApiRoute, api_routes
from tests.support.tenants import World

PATCH_ROUTES = [route for route in api_routes() if route.is_tenant and any(m == "PATCH" for m, _ in route.methods)]
PROTECTED = (
    "id",
    "workspace_id",
    "organization_id",
    "user_id",
    "service_account_id",
    "owner_id",
    "created_by_id",
    "state_type",
    "state_name",
    "flow_id",
)


def _forged(world: World) -> dict[str, Any]:
    other_org, other_ws, other_user = str(world.umbrella.id), str(world.umbrella_prod.id), str(world.charlie.id)
    return {
        "id": str(uuid.uuid4()),
        "workspace": other_ws,
        "workspace_id": other_ws,
        "organization": other_org,
        "organization_id": other_org,
        "owner": other_user,
        "owner_id": other_user,
        "user": other_user,
        "user_id": other_user,
        "created_by": other_user,
        "created_by_id": other_user,
        "state": {"type": "COMPLETED"},
        "state_type": "COMPLETED",
        "state_name": "Completed",
    }


def _snapshot(model: Any, pk: Any) -> dict[str, Any]:
    row: dict[str, Any] = model._base_manager.filter(pk=pk).values().get()  # unscoped: tenant roots included
    return {field: row[field] for field in PROTECTED if field in row}


def test_there_are_patch_routes() -> None:
    assert len(PATCH_ROUTES) >= 10


@pytest.mark.parametrize("route", PATCH_ROUTES, ids=lambda r: r.id)
def test_forged_ownership_and_state_fields_change_nothing(route: ApiRoute, world: World) -> None:
    values = acme_params(route, world)
    alice = session(world.alice)
    if "pk" in route.params:
        model = route_model(route)
        assert model is not None
        key: Any = values["pk"]
    else:  # the workspace or organisation itself
        from controlplane.orgs.models import Organization, Workspace

        model, key = (Workspace, world.prod.pk) if route.level == "workspace" else (Organization, world.acme.pk)
    before = _snapshot(model, key)
    assert before, f"{route.id}: nothing to protect?"
    response = alice.patch(route.url(**values), _forged(world), format="json")
    assert response.status_code in (200, 400, 403, 409, 422), f"{route.id}: {response.status_code} {response.content!r}"
    assert _snapshot(model, key) == before, route.id


def test_a_member_cannot_raise_their_own_role(world: World) -> None:
    bob = session(world.bob)
    org_membership = OrgMembership.dangerously_unscoped.get(organization=world.acme, user=world.bob)
    ws_membership = WorkspaceMembership.dangerously_unscoped.get(workspace=world.prod, user=world.bob)
    assert (
        bob.patch(f"/api/v1/orgs/acme/members/{org_membership.pk}/", {"role": "owner"}, format="json").status_code
        == 403
    )
    response = bob.patch(
        f"/api/v1/orgs/acme/workspaces/prod/members/{ws_membership.pk}/", {"role": "owner"}, format="json"
    )
    assert response.status_code == 403
    org_membership.refresh_from_db()
    ws_membership.refresh_from_db()
    assert (org_membership.role, ws_membership.role) == ("member", "viewer")
