"""RELIABILITY 8: another tenant's ids in your own URLs → 404, exactly like an id that does not exist.

The isolation matrix (tests/controlplane/test_isolation_matrix.py) sends foreign credentials
to acme's URLs; this is the other half, the classic IDOR: charlie, in his own organisation and
workspace, with a credential that holds the route's scope, puts acme's real ids in the path.
Every method of every route with an id answers what a random id answers (404; a write whose
generic body is refused first may answer 400/422, and key creation may first ask for a fresh
sign-in; always the same for both), and nothing changes.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from controlplane.orgs.roles import WORKSPACE_ROLE_SCOPES, Scope, WorkspaceRole
from tests.support.clients import bearer, session
from tests.support.matrix import acme_params, call, table_counts
from tests.support.routes import ApiRoute, api_routes
from tests.support.tenants import World, service_account_key

SLUGS = ("org_slug", "ws_slug")
ID_ROUTES = [route for route in api_routes() if route.is_tenant and set(route.params) - set(SLUGS)]


def required_scope(route: ApiRoute, method: str, action: str | None) -> Scope | None:
    view: Any = route.view_class
    if action and action in view.action_scopes:
        return view.action_scopes[action]  # type: ignore[no-any-return]
    return view.scope_map.get(method)  # type: ignore[no-any-return]


def charlie_with_scope(world: World, route: ApiRoute, scope: Scope | None) -> Any:
    """A credential of charlie's own tenant that is allowed the call, so only the id can refuse it."""
    if route.level == "org" or scope in WORKSPACE_ROLE_SCOPES[WorkspaceRole.OWNER]:
        return session(world.charlie)
    role = next(role for role, scopes in WORKSPACE_ROLE_SCOPES.items() if scope in scopes)
    _, secret = service_account_key(world.charlie, world.umbrella_prod, role, name=f"charlie-{role}")
    return bearer(secret)


def identifiers(values: dict[str, Any]) -> list[str]:
    return [str(value) for name, value in values.items() if name not in SLUGS]


def test_there_are_routes_with_ids() -> None:
    assert len(ID_ROUTES) >= 40


@pytest.mark.parametrize("route", ID_ROUTES, ids=lambda r: r.id)
def test_a_foreign_id_in_your_own_url_is_answered_like_a_missing_one(route: ApiRoute, world: World) -> None:
    acme = acme_params(route, world)
    own = {"org_slug": world.umbrella.slug, "ws_slug": world.umbrella_prod.slug}
    foreign_url = route.url(**{**acme, **own})
    missing_url = route.url(
        **{name: ("no-such-key" if name == "artifact_key" else uuid.uuid4()) for name in acme if name not in SLUGS},
        **own,
    )
    clients = {
        method: charlie_with_scope(world, route, required_scope(route, method, action))
        for method, action in route.methods
    }
    before = table_counts()
    for method, client in clients.items():
        foreign, missing = call(client, method, foreign_url), call(client, method, missing_url)
        # Without a body only the id can decide; with one, a body refused before any lookup is fine
        # as long as the foreign id gets exactly the missing id's answer.
        expected = {404} if method in ("GET", "DELETE") else {404, 400, 422}
        if foreign.status_code == 403 and foreign.json()["error"]["details"].get("reauthentication_required"):
            expected.add(403)  # key creation asks for a fresh sign-in before it looks at anything
        assert foreign.status_code in expected, f"{method} {foreign_url} → {foreign.status_code} {foreign.content!r}"
        assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json()), f"{method} {route.id}"
        text = foreign.content.decode()
        for identifier in identifiers(acme):
            assert identifier not in text, f"{method} {route.id} echoed {identifier}"
    assert table_counts() == before
