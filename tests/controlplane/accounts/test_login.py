"""Sign-in, sign-out and the session endpoint; the browser client's CSRF; the app client."""

from __future__ import annotations

import pytest
from django.test import Client

from controlplane.accounts.models import User
from tests.support.headless import APP, BROWSER, PASSWORD, Browser, pending_flows

pytestmark = pytest.mark.django_db


def test_login_then_session_then_logout(alice: User, browser: Browser) -> None:
    login = browser.login("alice@example.com")

    assert login.status_code == 200
    body = login.json()
    assert body["meta"]["is_authenticated"] is True
    assert body["data"]["user"]["email"] == "alice@example.com"
    assert body["data"]["user"]["display"] == "Alice"
    assert [method["method"] for method in body["data"]["methods"]] == ["password"]
    assert browser.is_authenticated()

    logout = browser.delete("/auth/session")

    assert logout.status_code == 401
    assert logout.json()["meta"]["is_authenticated"] is False
    assert not browser.is_authenticated()


def test_wrong_password_does_not_sign_in(alice: User, browser: Browser) -> None:
    response = browser.login("alice@example.com", "not alices password")

    assert response.status_code == 400
    assert [error["code"] for error in response.json()["errors"]] == ["email_password_mismatch"]
    assert not browser.is_authenticated()


def test_inactive_user_cannot_sign_in(alice: User, browser: Browser) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)

    response = browser.login("alice@example.com")

    assert response.status_code == 401
    assert pending_flows(response) == []
    assert not browser.is_authenticated()


def test_browser_client_refuses_a_post_without_the_csrf_token(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(f"{BROWSER}/config")
    assert "csrftoken" in client.cookies

    refused = client.post(
        f"{BROWSER}/auth/login", {"email": alice.email, "password": PASSWORD}, content_type="application/json"
    )
    accepted = client.post(
        f"{BROWSER}/auth/login",
        {"email": alice.email, "password": PASSWORD},
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200


def test_logout_needs_the_csrf_token_too(alice: User, alice_browser: Browser) -> None:
    refused = alice_browser.client.delete(f"{BROWSER}/auth/session")

    assert refused.status_code == 403
    assert alice_browser.is_authenticated()


def test_app_client_signs_in_with_a_session_token_and_no_cookies(alice: User) -> None:
    login = Client(enforce_csrf_checks=True).post(
        f"{APP}/auth/login", {"email": alice.email, "password": PASSWORD}, content_type="application/json"
    )
    assert login.status_code == 200
    token = login.json()["meta"]["session_token"]
    stranger = Client()

    assert stranger.get(f"{APP}/auth/session").status_code == 401
    assert stranger.get(f"{APP}/auth/session", headers={"X-Session-Token": token}).status_code == 200
    logout = stranger.delete(f"{APP}/auth/session", headers={"X-Session-Token": token})
    assert logout.status_code == 401
    assert stranger.get(f"{APP}/auth/session", headers={"X-Session-Token": token}).status_code == 410


def test_config_describes_what_the_spa_may_offer(browser: Browser) -> None:
    response = browser.get("/config")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["account"]["login_methods"] == ["email"]
    assert data["account"]["is_open_for_signup"] is True
    assert data["account"]["email_verification_by_code_enabled"] is False
    assert data["mfa"]["supported_types"] == ["totp", "recovery_codes"]
    assert "usersessions" in data
