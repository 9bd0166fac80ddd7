"""user_create and user_sessions_end: the services other apps call."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.test import Client

from controlplane.accounts.models import User
from controlplane.accounts.services import user_create, user_sessions_end
from controlplane.core.errors import ValidationFailed
from tests.support.headless import APP, PASSWORD, Browser, pending_flows

pytestmark = pytest.mark.django_db


def test_user_create_lowercases_email_and_adds_allauth_address() -> None:
    user = user_create(email="  Dana@Example.COM ", password=PASSWORD, name="Dana", verified=True)

    user.refresh_from_db()
    assert user.email == "dana@example.com"
    assert user.name == "Dana"
    assert user.check_password(PASSWORD)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("dana@example.com", True, True)


def test_verified_user_can_sign_in_through_allauth() -> None:
    user_create(email="dana@example.com", password=PASSWORD, verified=True)

    browser = Browser()
    response = browser.login("DANA@example.com")

    assert response.status_code == 200
    assert response.json()["data"]["user"]["email"] == "dana@example.com"


def test_unverified_user_must_verify_before_signing_in() -> None:
    user_create(email="dana@example.com", password=PASSWORD)
    assert EmailAddress.objects.get(email="dana@example.com").verified is False

    browser = Browser()
    response = browser.login("dana@example.com")

    assert response.status_code == 401
    assert pending_flows(response) == ["verify_email"]
    assert not browser.is_authenticated()


@pytest.mark.parametrize("taken", ["alice@example.com", "ALICE@example.com"])
def test_user_create_refuses_a_taken_email(alice: User, taken: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        user_create(email=taken, password=PASSWORD)

    assert "email" in caught.value.details
    assert User.objects.count() == 1


def test_user_create_refuses_an_email_another_user_is_changing_to(alice: User) -> None:
    EmailAddress.objects.create(user=alice, email="pending@example.com", primary=False, verified=False)

    with pytest.raises(ValidationFailed) as caught:
        user_create(email="pending@example.com", password=PASSWORD)

    assert "email" in caught.value.details


@pytest.mark.parametrize(
    "email", ["", "  ", "not-an-email", "a@b@example.com", "x" * 250 + "@example.com", "a\x00@example.com"]
)
def test_user_create_refuses_an_invalid_email(email: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        user_create(email=email, password=PASSWORD)

    assert "email" in caught.value.details
    assert not User.objects.exists()


@pytest.mark.parametrize("name", ["n" * 151, "Nul\x00Byte"])
def test_user_create_refuses_an_invalid_name(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        user_create(email="dana@example.com", password=PASSWORD, name=name)

    assert "name" in caught.value.details
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "too short"),
        ("password123", "too common"),
        ("4815162342108", "entirely numeric"),
        ("erin.example", "too similar"),
    ],
)
def test_user_create_refuses_a_weak_password(password: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        user_create(email="erin@example.com", password=password)

    messages = " ".join(caught.value.details["password"])
    assert reason in messages
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()


def _app_token(email: str) -> str:
    response = Client().post(
        f"{APP}/auth/login", {"email": email, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    return str(response.json()["meta"]["session_token"])


def _app_session_ok(token: str) -> bool:
    return Client().get(f"{APP}/auth/session", headers={"X-Session-Token": token}).status_code == 200


def test_user_sessions_end_ends_every_session_of_that_user_only(alice: User) -> None:
    bob = user_create(email="bob@example.com", password=PASSWORD, verified=True)
    laptop, phone, bobs = Browser(), Browser(), Browser()
    assert laptop.login(alice.email).status_code == 200
    assert phone.login(alice.email).status_code == 200
    assert bobs.login(bob.email).status_code == 200
    token = _app_token(alice.email)
    # A session made without allauth (as tests and scripts do) is not in allauth's list.
    forced = Client()
    forced.force_login(alice)
    assert forced.get("/_allauth/browser/v1/auth/session").status_code == 200

    ended = user_sessions_end(user=alice)

    assert ended == 3  # laptop, phone and the app token: the ones allauth recorded
    assert not laptop.is_authenticated()
    assert not phone.is_authenticated()
    assert not _app_session_ok(token)
    assert forced.get("/_allauth/browser/v1/auth/session").status_code == 401
    assert not UserSession.objects.filter(user=alice).exists()
    assert bobs.is_authenticated()


def test_user_can_sign_in_again_after_sessions_end(alice: User) -> None:
    browser = Browser()
    assert browser.login(alice.email).status_code == 200

    user_sessions_end(user=alice)

    assert not browser.is_authenticated()
    assert browser.login(alice.email).status_code == 200
    assert browser.is_authenticated()


def test_user_sessions_end_without_sessions_is_zero(alice: User) -> None:
    assert user_sessions_end(user=alice) == 0
