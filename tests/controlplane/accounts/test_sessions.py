"""The signed-in user's list of sessions, and ending the other ones."""

from __future__ import annotations

import pytest

from controlplane.accounts.models import User
from controlplane.accounts.services import user_create
from tests.support.headless import PASSWORD, Browser

pytestmark = pytest.mark.django_db


def test_sessions_lists_this_session(alice: User, alice_browser: Browser) -> None:
    response = alice_browser.get("/auth/sessions")

    assert response.status_code == 200
    sessions = response.json()["data"]
    assert len(sessions) == 1
    assert sessions[0]["is_current"] is True
    assert sessions[0]["ip"] == "127.0.0.1"


def test_sessions_can_end_another_session(alice: User, alice_browser: Browser) -> None:
    phone = Browser()
    phone.client.defaults["HTTP_USER_AGENT"] = "Phone/1.0"
    assert phone.login(alice.email).status_code == 200
    sessions = alice_browser.get("/auth/sessions").json()["data"]
    assert len(sessions) == 2
    other = next(session for session in sessions if not session["is_current"])
    assert other["user_agent"] == "Phone/1.0"

    response = alice_browser.delete("/auth/sessions", {"sessions": [other["id"]]})

    assert response.status_code == 200
    assert [session["is_current"] for session in response.json()["data"]] == [True]
    assert not phone.is_authenticated()
    assert alice_browser.is_authenticated()


def test_sessions_cannot_end_another_users_session(alice: User, alice_browser: Browser) -> None:
    user_create(email="mallory@example.com", password=PASSWORD, verified=True)
    mallory = Browser()
    assert mallory.login("mallory@example.com").status_code == 200
    alices_session = alice_browser.get("/auth/sessions").json()["data"][0]["id"]

    response = mallory.delete("/auth/sessions", {"sessions": [alices_session]})

    assert response.status_code == 400
    assert alice_browser.is_authenticated()


def test_sessions_need_a_signed_in_user(browser: Browser) -> None:
    assert browser.get("/auth/sessions").status_code == 401
