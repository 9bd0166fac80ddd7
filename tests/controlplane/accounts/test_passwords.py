"""Changing a password (signed in) and resetting a forgotten one by email."""

from __future__ import annotations

import pytest
from django.core import mail

from controlplane.accounts.models import User
from tests.support.headless import NEW_PASSWORD, PASSWORD, Browser, link_key

pytestmark = pytest.mark.django_db

RESET_ROUTE = "/account/password/reset/key/"


def test_password_change_keeps_this_session_and_ends_the_others(alice: User, alice_browser: Browser) -> None:
    other = Browser()
    assert other.login(alice.email).status_code == 200
    mail.outbox.clear()

    response = alice_browser.post(
        "/account/password/change", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    assert alice_browser.is_authenticated()
    assert not other.is_authenticated()
    assert Browser().login(alice.email, PASSWORD).status_code == 400
    assert Browser().login(alice.email, NEW_PASSWORD).status_code == 200
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]  # "your password changed"


def test_password_change_needs_the_current_password(alice: User, alice_browser: Browser) -> None:
    response = alice_browser.post(
        "/account/password/change", {"current_password": "not the password", "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert [error["param"] for error in response.json()["errors"]] == ["current_password"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_change_applies_the_password_rules(alice: User, alice_browser: Browser) -> None:
    response = alice_browser.post("/account/password/change", {"current_password": PASSWORD, "new_password": "12345"})

    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_change_needs_a_signed_in_user(browser: Browser) -> None:
    response = browser.post("/account/password/change", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 401


def test_password_reset_by_email_round_trip(alice: User) -> None:
    signed_in_elsewhere = Browser()
    assert signed_in_elsewhere.login(alice.email).status_code == 200
    browser = Browser()

    requested = browser.post("/auth/password/request", {"email": "Alice@Example.com"})

    assert requested.status_code == 200
    key = link_key(RESET_ROUTE, to="alice@example.com")
    # The SPA's reset page checks the key before asking for a new password.
    checked = browser.get("/auth/password/reset", headers={"X-Password-Reset-Key": key})
    assert checked.status_code == 200
    assert checked.json()["data"]["user"]["email"] == "alice@example.com"

    reset = browser.post("/auth/password/reset", {"key": key, "password": NEW_PASSWORD})

    # Reset does not sign in (ACCOUNT_LOGIN_ON_PASSWORD_RESET is off): the user signs in next.
    assert reset.status_code == 401
    assert not browser.is_authenticated()
    assert not signed_in_elsewhere.is_authenticated()
    assert browser.login(alice.email, PASSWORD).status_code == 400
    assert browser.login(alice.email, NEW_PASSWORD).status_code == 200


def test_a_reset_key_works_once(alice: User, browser: Browser) -> None:
    browser.post("/auth/password/request", {"email": alice.email})
    key = link_key(RESET_ROUTE, to=alice.email)
    assert browser.post("/auth/password/reset", {"key": key, "password": NEW_PASSWORD}).status_code == 401

    again = Browser().post("/auth/password/reset", {"key": key, "password": "yet another horse, stapled"})

    assert again.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_a_reset_with_a_weak_password_changes_nothing(alice: User, browser: Browser) -> None:
    browser.post("/auth/password/request", {"email": alice.email})
    key = link_key(RESET_ROUTE, to=alice.email)

    response = browser.post("/auth/password/reset", {"key": key, "password": "password123"})

    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
