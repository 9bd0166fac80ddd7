"""Sign-up with mandatory email verification by link, as the SPA drives it."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from pytest_django.fixtures import Settings

from controlplane.accounts.models import User
from tests.support.headless import PASSWORD, Browser, link_key, pending_flows

pytestmark = pytest.mark.django_db

VERIFY_ROUTE = "/account/verify-email/"


def test_signup_then_verify_by_link_signs_in() -> None:
    browser = Browser()

    signup = browser.post("/auth/signup", {"email": "Newcomer@Example.com", "password": PASSWORD})

    assert signup.status_code == 401
    assert pending_flows(signup) == ["verify_email"]
    assert not browser.is_authenticated()
    user = User.objects.get()
    assert user.email == "newcomer@example.com"
    assert EmailAddress.objects.get(user=user).verified is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("[Tether] ")
    key = link_key(VERIFY_ROUTE, to="newcomer@example.com")

    # The SPA's verify page first shows what is being verified, then confirms it.
    info = browser.get("/auth/email/verify", headers={"X-Email-Verification-Key": key})
    assert info.status_code == 200
    assert info.json()["data"]["email"] == "newcomer@example.com"
    verified = browser.post("/auth/email/verify", {"key": key})

    assert verified.status_code == 200
    assert verified.json()["meta"]["is_authenticated"] is True
    assert verified.json()["data"]["user"]["email"] == "newcomer@example.com"
    assert browser.is_authenticated()
    assert EmailAddress.objects.get(user=user).verified is True


def test_verification_link_opened_elsewhere_verifies_without_signing_in() -> None:
    Browser().post("/auth/signup", {"email": "newcomer@example.com", "password": PASSWORD})
    key = link_key(VERIFY_ROUTE, to="newcomer@example.com")
    phone = Browser()

    response = phone.post("/auth/email/verify", {"key": key})

    assert response.status_code == 401
    assert not phone.is_authenticated()
    assert EmailAddress.objects.get(email="newcomer@example.com").verified is True
    assert phone.login("newcomer@example.com").status_code == 200


def test_a_verification_key_works_once() -> None:
    browser = Browser()
    browser.post("/auth/signup", {"email": "newcomer@example.com", "password": PASSWORD})
    key = link_key(VERIFY_ROUTE, to="newcomer@example.com")
    assert browser.post("/auth/email/verify", {"key": key}).status_code == 200

    again = Browser().post("/auth/email/verify", {"key": key})

    assert again.status_code == 400


def test_a_garbled_verification_key_is_refused() -> None:
    browser = Browser()
    browser.post("/auth/signup", {"email": "newcomer@example.com", "password": PASSWORD})
    key = link_key(VERIFY_ROUTE, to="newcomer@example.com")

    response = browser.post("/auth/email/verify", {"key": key[:-1] + ("x" if key[-1] != "x" else "y")})

    assert response.status_code == 400
    assert not browser.is_authenticated()
    assert EmailAddress.objects.get(email="newcomer@example.com").verified is False


def test_unverified_user_signing_in_is_asked_to_verify_then_signed_in() -> None:
    Browser().post("/auth/signup", {"email": "newcomer@example.com", "password": PASSWORD})
    mail.outbox.clear()
    browser = Browser()

    response = browser.login("newcomer@example.com")

    assert response.status_code == 401
    assert pending_flows(response) == ["verify_email"]
    assert not browser.is_authenticated()
    # The sign-up mail went out moments ago; allauth does not send another one yet.
    assert mail.outbox == []


def test_signup_with_a_weak_password_creates_nothing() -> None:
    response = Browser().post("/auth/signup", {"email": "newcomer@example.com", "password": "password123"})

    assert response.status_code == 400
    assert {error["param"] for error in response.json()["errors"]} == {"password"}
    assert not User.objects.exists()
    assert mail.outbox == []


def test_email_links_use_the_public_url_not_the_request_host(settings: Settings) -> None:
    settings.PUBLIC_URL = "https://tether.example.org"
    settings.ALLOWED_HOSTS = ["evil.example.net"]
    browser = Browser()
    browser.client.defaults["HTTP_HOST"] = "evil.example.net"

    browser.post("/auth/signup", {"email": "newcomer@example.com", "password": PASSWORD})

    body = str(mail.outbox[0].body)
    assert "https://tether.example.org/account/verify-email/" in body
    assert "evil.example.net" not in body
