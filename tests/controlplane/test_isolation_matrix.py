"""RELIABILITY 8, 11, 12, 16: another tenant's credentials on every route and real id → 404, nothing leaks.

Routes come from the URL resolver; a route of an unknown kind, or one whose objects the
matrix cannot create, fails the test rather than being skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.core.api.info import ServerInfoView
from tests.support.clients import bearer, session
from tests.support.matrix import acme_params, call, table_counts
from tests.support.routes import ApiRoute, api_routes
from tests.support.tenants import World, personal_key, service_account_key

ROUTES = api_routes()
PUBLIC_VIEWS = {ServerInfoView}
TENANT_ROUTES = [route for route in ROUTES if route.is_tenant]
USER_ROUTES = [route for route in ROUTES if route.level == "user"]


def test_every_route_is_of_a_known_kind() -> None:
    unknown = [r.template for r in ROUTES if r.level == "public" and r.view_class not in PUBLIC_VIEWS]
    assert unknown == [], "routes outside the tenant/user base classes (add them there, or to PUBLIC_VIEWS)"
    assert len(TENANT_ROUTES) >= 10


def _attackers(world: World) -> dict[str, Any]:
    """Charlie in every way he can authenticate, and acme credentials bound elsewhere."""
    _, charlie_sa = service_account_key(world.charlie, world.umbrella_prod, "owner", name="charlie-sa")
    _, staging_worker = service_account_key(world.alice, world.staging, "worker", name="staging-worker")
    return {
        "charlie-session": session(world.charlie),
        "charlie-personal-key": bearer(personal_key(world.charlie, world.umbrella)),
        "charlie-service-account": bearer(charlie_sa),
        "acme-staging-worker": bearer(staging_worker),
    }


def _identifiers(world: World, values: dict[str, Any]) -> list[str]:
    return [
        str(world.acme.id),
        str(world.prod.id),
        "alice@acme.test",
        "bob@acme.test",
        *(str(v) for v in values.values() if v not in ("acme", "prod")),
    ]


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=lambda r: r.id)
def test_foreign_credentials_get_404_and_change_nothing(route: ApiRoute, world: World) -> None:
    values = acme_params(route, world)
    url = route.url(**values)
    if any(method == "GET" for method, _ in route.methods):
        status = session(world.alice).get(url).status_code
        assert status == 200, f"the owner gets {status} on {url}: a 404 here would prove nothing"
    attackers = _attackers(world)
    if route.level == "org":
        attackers.pop("acme-staging-worker")  # an acme service account: org routes answer 403 to it (role matrix)
    before = table_counts()
    for name, client in attackers.items():
        for method, _ in route.methods:
            response = call(client, method, url)
            assert response.status_code == 404, f"{name} {method} {url} → {response.status_code}"
            text = response.content.decode()
            for identifier in _identifiers(world, values):
                assert identifier not in text, f"{name} {method} {url} leaked {identifier}"
    assert table_counts() == before


@pytest.mark.parametrize("route", USER_ROUTES, ids=lambda r: r.id)
def test_user_routes_show_only_the_callers_own_data(route: ApiRoute, world: World) -> None:
    client = session(world.charlie)
    for method, _ in route.methods:
        response = call(client, method, route.url())
        assert response.status_code < 500
        text = response.content.decode()
        assert "acme" not in text
        assert str(world.acme.id) not in text


def test_org_list_lists_only_memberships(world: World) -> None:
    slugs = [org["slug"] for org in session(world.charlie).get("/api/v1/orgs/").json()]
    assert slugs == ["umbrella"]
    assert sorted(org["slug"] for org in session(world.bob).get("/api/v1/orgs/").json()) == ["acme"]


def test_workspace_list_shows_only_workspaces_the_member_belongs_to(world: World) -> None:
    body = session(world.bob).get("/api/v1/orgs/acme/workspaces/").json()
    assert [ws["slug"] for ws in body] == ["prod"]
    assert session(world.bob).get("/api/v1/orgs/acme/workspaces/staging/").status_code == 404
