"""Issuing keys through the API: recent re-authentication, secret shown once, audited (RELIABILITY 3, 6, 24)."""

from __future__ import annotations

import pytest

from controlplane.accounts.services import user_create
from controlplane.audit.models import AuditEntry
from controlplane.orgs.models import OrgMembership
from controlplane.orgs.roles import OrgRole
from tests.support.clients import bearer, session
from tests.support.headless import PASSWORD, Browser, api
from tests.support.tenants import World, personal_key, service_account_key


@pytest.fixture
def dave(world: World) -> Browser:
    """An acme admin who has just signed in with his password (a recent authentication)."""
    user = user_create(email="dave@acme.test", password=PASSWORD, verified=True)
    OrgMembership.dangerously_unscoped.create(organization=world.acme, user=user, role=OrgRole.ADMIN)
    browser = Browser()
    assert browser.login("dave@acme.test").status_code == 200
    return browser


def test_fresh_session_creates_a_key_whose_secret_is_shown_once(world: World, dave: Browser) -> None:
    created = api(dave, "POST", "/api/v1/orgs/acme/api-keys/", {"name": "laptop", "workspace": "prod"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("tether_pat_")
    assert bearer(secret).get("/api/v1/orgs/acme/workspaces/prod/access/").json()["role"] == "owner"
    listed = api(dave, "GET", "/api/v1/orgs/acme/api-keys/").json()["results"]
    assert [key["name"] for key in listed] == ["laptop"]
    assert "secret" not in listed[0]
    assert secret not in str(api(dave, "GET", f"/api/v1/orgs/acme/api-keys/{listed[0]['id']}/").json())
    entry = AuditEntry.dangerously_unscoped.get(action="api_key.created")
    assert entry.actor_label == "dave@acme.test"
    assert secret not in str(entry.changes)


def test_service_account_key_via_api_works_and_revocation_is_immediate(world: World, dave: Browser) -> None:
    account = api(dave, "POST", "/api/v1/orgs/acme/service-accounts/", {"name": "ci"}).json()
    added = api(
        dave,
        "POST",
        "/api/v1/orgs/acme/workspaces/prod/members/",
        {"service_account_id": account["id"], "role": "runner"},
    )
    assert added.status_code == 201
    created = api(dave, "POST", f"/api/v1/orgs/acme/service-accounts/{account['id']}/api-keys/", {"name": "ci"})
    assert created.status_code == 201
    ci = bearer(created.json()["secret"])
    assert ci.get("/api/v1/orgs/acme/workspaces/prod/access/").json()["role"] == "runner"
    revoked = api(
        dave, "DELETE", f"/api/v1/orgs/acme/service-accounts/{account['id']}/api-keys/{created.json()['id']}/"
    )
    assert revoked.status_code == 204
    assert ci.get("/api/v1/orgs/acme/workspaces/prod/access/").status_code == 401


def test_key_creation_without_recent_authentication_is_refused(world: World) -> None:
    stale = session(world.alice)  # a session with no recorded password step
    response = stale.post("/api/v1/orgs/acme/api-keys/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"reauthentication_required": True}
    with_key = bearer(personal_key(world.alice, world.acme))
    assert with_key.post("/api/v1/orgs/acme/api-keys/", {"name": "y"}, format="json").status_code == 403
    _, sa = service_account_key(world.alice, world.prod, "owner")
    assert bearer(sa).post("/api/v1/orgs/acme/api-keys/", {"name": "z"}, format="json").status_code == 403


def test_every_membership_role_and_key_change_is_audited(world: World, dave: Browser) -> None:
    bob_membership = OrgMembership.dangerously_unscoped.get(organization=world.acme, user=world.bob)
    steps = [
        ("PATCH", f"/api/v1/orgs/acme/members/{bob_membership.pk}/", {"role": "admin"}, "org.member.role_changed"),
        ("POST", "/api/v1/orgs/acme/service-accounts/", {"name": "audited"}, "service_account.created"),
        ("POST", "/api/v1/orgs/acme/invitations/", {"email": "new@acme.test"}, "org.invitation.created"),
        ("POST", "/api/v1/orgs/acme/api-keys/", {"name": "k"}, "api_key.created"),
    ]
    for method, path, body, action in steps:
        assert api(dave, method, path, body).status_code in (200, 201), path
        entry = AuditEntry.dangerously_unscoped.filter(action=action).latest("created_at")
        assert entry.actor_label == "dave@acme.test"
        assert entry.organization_id == world.acme.id
        assert entry.client_ip == "127.0.0.1"
    membership = api(dave, "GET", "/api/v1/orgs/acme/workspaces/prod/members/").json()["results"][0]
    assert (
        api(
            dave, "PATCH", f"/api/v1/orgs/acme/workspaces/prod/members/{membership['id']}/", {"role": "runner"}
        ).status_code
        == 200
    )
    entry = AuditEntry.dangerously_unscoped.get(action="workspace.member.role_changed")
    assert entry.workspace_id == world.prod.id
    assert entry.changes == {"role": [membership["role"], "runner"]}
    entry_id = entry.pk
    for method in ("PATCH", "PUT", "DELETE"):
        assert api(dave, method, f"/api/v1/orgs/acme/audit-log/{entry_id}/", {"action": "x"}).status_code == 405
