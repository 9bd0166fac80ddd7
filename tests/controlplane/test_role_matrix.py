"""RELIABILITY 9, 10, 11: every (role, route, method) against the scope table; deny by default."""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.orgs.roles import ORG_ROLE_SCOPES, WORKSPACE_ROLE_SCOPES, OrgRole, Scope, WorkspaceRole
from tests.support.clients import bearer, session
from tests.support.matrix import acme_params, call, table_counts
from tests.support.routes import ApiRoute, api_routes
from tests.support.tenants import World, add_org_member, make_user, service_account_key

ROUTES = api_routes()
CASES = [
    pytest.param(route, method, action, role, id=f"{role}-{method}-{route.id}")
    for route in ROUTES
    if route.is_tenant
    for method, action in route.methods
    for role in (WorkspaceRole.values if route.level == "workspace" else [*OrgRole.values, "service-account"])
]


def _required_scope(route: ApiRoute, method: str, action: str | None) -> Scope | None:
    view: Any = route.view_class
    if action and action in view.action_scopes:
        return view.action_scopes[action]  # type: ignore[no-any-return]
    return view.scope_map.get(method)  # type: ignore[no-any-return]


def _client(world: World, level: str, role: str) -> tuple[Any, frozenset[Scope]]:
    if level == "workspace":
        _, secret = service_account_key(world.alice, world.prod, role, name=f"role-{role}")
        return bearer(secret), WORKSPACE_ROLE_SCOPES[role]
    if role == "service-account":
        _, secret = service_account_key(world.alice, world.prod, WorkspaceRole.OWNER, name="org-level-sa")
        return bearer(secret), frozenset()
    user = {"owner": world.alice, "member": world.bob}.get(role)
    if user is None:
        user = make_user(f"{role}@acme.test")
        add_org_member(world.acme, user, role)
    return session(user), ORG_ROLE_SCOPES[role]


@pytest.mark.parametrize(("route", "method", "action", "role"), CASES)
def test_role_gets_exactly_what_the_scope_table_grants(
    route: ApiRoute, method: str, action: str | None, role: str, world: World
) -> None:
    url = route.url(**acme_params(route, world))
    client, granted = _client(world, route.level, role)
    needed = _required_scope(route, method, action)
    before = table_counts()
    response = call(client, method, url)
    assert response.status_code < 500, response.content
    if needed is not None and needed in granted:
        refused_for_reauth = response.status_code == 403 and response.json()["error"]["details"].get(
            "reauthentication_required"
        )
        assert response.status_code != 403 or refused_for_reauth, f"{role} was refused {method} {url} ({needed})"
    else:
        assert response.status_code == 403, f"{role} got {response.status_code} on {method} {url} (needs {needed})"
        assert response.json()["error"]["code"] == "permission_denied"
        assert table_counts() == before


def test_every_route_declares_a_scope_for_each_method() -> None:
    undeclared = [
        f"{method} {route.template}"
        for route in ROUTES
        if route.is_tenant
        for method, action in route.methods
        if _required_scope(route, method, action) is None
    ]
    assert undeclared == []


@pytest.mark.parametrize("override", ["DELETE", "PATCH", "PUT"])
def test_viewer_method_override_headers_do_not_swap_the_method(world: World, override: str) -> None:
    from controlplane.flows.models import Variable

    variable = Variable.dangerously_unscoped.create(workspace=world.prod, name="keep", value=1)
    viewer = session(world.bob)
    url = f"/api/v1/orgs/acme/workspaces/prod/variables/{variable.pk}/"
    response = viewer.post(url, {"value": 2}, format="json", HTTP_X_HTTP_METHOD_OVERRIDE=override)
    assert response.status_code in (403, 405)
    variable.refresh_from_db()
    assert variable.value == 1


def test_viewer_can_read_but_every_write_is_refused(world: World) -> None:
    viewer = session(world.bob)
    assert viewer.get("/api/v1/orgs/acme/workspaces/prod/variables/").status_code == 200
    for method in ("post", "patch", "put", "delete"):
        response = getattr(viewer, method)("/api/v1/orgs/acme/workspaces/prod/", {"name": "x"}, format="json")
        assert response.status_code in (403, 405)
