"""Issue 3, acceptance 1: the product walked as a new team would, through the real sign-in API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from tests.support.headless import PASSWORD, Browser, api, link_key


def _sign_up(email: str) -> Browser:
    browser = Browser()
    response = browser.post("/auth/signup", {"email": email, "password": PASSWORD})
    assert response.status_code == 401  # pending email verification
    key = link_key("/account/verify-email/", email)
    assert browser.post("/auth/email/verify", {"key": key}).status_code == 200
    assert browser.is_authenticated()
    return browser


def _invitation_token(email: str) -> str:
    body = next(str(m.body) for m in reversed(mail.outbox) if email in m.to and "invited" in str(m.body))
    match = re.search(r"/invitations/accept\?token=(\S+)", body)
    assert match
    return match.group(1)


@pytest.mark.django_db
def test_a_new_team_signs_up_invites_and_stays_isolated(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    alice = _sign_up("alice@acme.test")
    assert api(alice, "POST", "/api/v1/orgs/", {"slug": "acme", "name": "Acme"}).status_code == 201
    assert api(alice, "POST", "/api/v1/orgs/acme/workspaces/", {"slug": "prod", "name": "Prod"}).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        invited = api(
            alice,
            "POST",
            "/api/v1/orgs/acme/invitations/",
            {"email": "bob@acme.test", "workspace": "prod", "workspace_role": "viewer"},
        )
    assert invited.status_code == 201

    bob = _sign_up("bob@acme.test")
    accepted = api(bob, "POST", "/api/v1/invitations/accept/", {"token": _invitation_token("bob@acme.test")})
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "member"

    prod = "/api/v1/orgs/acme/workspaces/prod"
    assert api(bob, "GET", f"{prod}/access/").json()["role"] == "viewer"
    assert api(bob, "GET", f"{prod}/variables/").status_code == 200
    assert api(bob, "GET", f"{prod}/members/").status_code == 200
    created = api(alice, "POST", f"{prod}/variables/", {"name": "region", "value": "eu"})
    assert created.status_code == 201
    variable_id = created.json()["id"]
    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{prod}/variables/", {"name": "x", "value": 1}),
        ("PATCH", f"{prod}/variables/{variable_id}/", {"value": "us"}),
        ("DELETE", f"{prod}/variables/{variable_id}/", None),
        ("PATCH", f"{prod}/", {"name": "renamed"}),
        ("DELETE", f"{prod}/", None),
        ("POST", f"{prod}/members/", {"user_id": accepted.json()["user_id"], "role": "owner"}),
        ("POST", "/api/v1/orgs/acme/workspaces/", {"slug": "mine", "name": "Mine"}),
        ("POST", "/api/v1/orgs/acme/invitations/", {"email": "eve@acme.test"}),
    ]
    for method, path, data in writes:
        response = api(bob, method, path, data)
        assert response.status_code == 403, f"bob {method} {path} → {response.status_code}"
    assert api(alice, "GET", f"{prod}/variables/{variable_id}/").json()["value"] == "eu"

    charlie = _sign_up("charlie@umbrella.test")
    assert api(charlie, "POST", "/api/v1/orgs/", {"slug": "umbrella", "name": "Umbrella"}).status_code == 201
    assert [org["slug"] for org in api(charlie, "GET", "/api/v1/orgs/").json()] == ["umbrella"]
    for path in ("/api/v1/orgs/acme/", f"{prod}/", f"{prod}/variables/", f"{prod}/variables/{variable_id}/"):
        for method in ("GET", "PATCH", "DELETE"):
            assert api(charlie, method, path, {}).status_code == 404, f"charlie {method} {path}"
