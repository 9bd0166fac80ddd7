"""Recent re-authentication: allauth's own gates, and recently_authenticated() for ours."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user
from django.core import mail
from django.http import HttpRequest
from django.test import RequestFactory

from controlplane.accounts.models import User
from controlplane.accounts.reauth import recently_authenticated
from tests.controlplane.accounts.test_mfa import activate_totp
from tests.support.headless import Browser, link_key, pending_flows, totp_code

pytestmark = pytest.mark.django_db


def request_in(browser: Browser) -> HttpRequest:
    """A request carrying `browser`'s session, as a view behind the middleware sees it."""
    request = RequestFactory().get("/")
    request.session = browser.client.session
    request.user = get_user(request)
    return request


def age_records(browser: Browser, seconds: float) -> None:
    """Pretend every authentication step in the browser's session happened `seconds` earlier."""
    session = browser.client.session
    records: list[dict[str, Any]] = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] -= seconds
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()


# --- allauth's gates -----------------------------------------------------------------


def test_changing_email_needs_a_recent_reauthentication(alice: User, alice_browser: Browser) -> None:
    refused = alice_browser.post("/account/email", {"email": "alice@new.example.com"})

    assert refused.status_code == 401
    assert "reauthenticate" in [flow["id"] for flow in refused.json()["data"]["flows"]]
    assert not EmailAddress.objects.filter(email="alice@new.example.com").exists()

    assert alice_browser.reauthenticate().status_code == 200
    mail.outbox.clear()
    accepted = alice_browser.post("/account/email", {"email": "alice@new.example.com"})

    assert accepted.status_code == 200
    assert EmailAddress.objects.get(email="alice@new.example.com").verified is False
    assert [message.to for message in mail.outbox] == [["alice@new.example.com"]]


def test_email_change_completes_when_the_new_address_is_verified(alice: User, alice_browser: Browser) -> None:
    alice_browser.reauthenticate()
    alice_browser.post("/account/email", {"email": "alice@new.example.com"})
    key = link_key("/account/verify-email/", to="alice@new.example.com")

    verified = alice_browser.post("/auth/email/verify", {"key": key})

    assert verified.status_code == 200
    alice.refresh_from_db()
    assert alice.email == "alice@new.example.com"
    assert list(EmailAddress.objects.filter(user=alice).values_list("email", "primary", "verified")) == [
        ("alice@new.example.com", True, True)
    ]
    assert Browser().login("alice@new.example.com").status_code == 200
    assert Browser().login("alice@example.com").status_code == 400


def test_reauthentication_expires(alice: User, alice_browser: Browser) -> None:
    alice_browser.reauthenticate()
    age_records(alice_browser, 301)

    refused = alice_browser.post("/account/email", {"email": "alice@new.example.com"})

    assert refused.status_code == 401


def test_reauthentication_with_a_wrong_password_is_refused(alice: User, alice_browser: Browser) -> None:
    response = alice_browser.reauthenticate("not the password")

    assert response.status_code == 400
    assert alice_browser.post("/account/email", {"email": "alice@new.example.com"}).status_code == 401


# MFA deactivation: test_mfa.test_deactivating_totp_needs_a_recent_reauthentication.


# --- recently_authenticated ----------------------------------------------------------


def test_true_right_after_password_login(alice: User, alice_browser: Browser) -> None:
    assert recently_authenticated(request_in(alice_browser)) is True


def test_false_once_the_window_has_passed(alice: User, alice_browser: Browser) -> None:
    age_records(alice_browser, 301)

    assert recently_authenticated(request_in(alice_browser)) is False
    assert recently_authenticated(request_in(alice_browser), within_seconds=600) is True


def test_true_again_after_reauthenticating(alice: User, alice_browser: Browser) -> None:
    age_records(alice_browser, 3600)
    assert recently_authenticated(request_in(alice_browser)) is False

    assert alice_browser.reauthenticate().status_code == 200

    assert recently_authenticated(request_in(alice_browser)) is True


def test_an_mfa_reauthentication_counts(alice: User, alice_browser: Browser) -> None:
    secret, _ = activate_totp(alice_browser)
    age_records(alice_browser, 3600)

    assert alice_browser.post("/auth/2fa/reauthenticate", {"code": totp_code(secret, step=-1)}).status_code == 200

    assert recently_authenticated(request_in(alice_browser)) is True


def test_false_when_not_signed_in(alice: User, browser: Browser) -> None:
    browser.get("/config")

    assert recently_authenticated(request_in(browser)) is False


def test_false_while_the_second_factor_is_pending(alice: User, alice_browser: Browser) -> None:
    activate_totp(alice_browser)
    browser = Browser()
    assert pending_flows(browser.login(alice.email)) == ["mfa_authenticate"]

    # allauth has logged the password step, but the user is not signed in.
    assert browser.client.session[AUTHENTICATION_METHODS_SESSION_KEY]
    assert recently_authenticated(request_in(browser)) is False


def test_false_after_logout_and_for_a_session_signed_in_without_a_password(alice: User, alice_browser: Browser) -> None:
    alice_browser.delete("/auth/session")
    assert recently_authenticated(request_in(alice_browser)) is False

    forced = Browser()
    forced.client.force_login(alice)
    assert recently_authenticated(request_in(forced)) is False


def test_a_timestamp_from_the_future_is_not_trusted(alice: User, alice_browser: Browser) -> None:
    age_records(alice_browser, -3600)

    assert recently_authenticated(request_in(alice_browser)) is False
