"""Nothing the sign-in API answers tells whether an email is registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache

from controlplane.accounts.models import User
from controlplane.accounts.services import user_create
from tests.support.headless import PASSWORD, Browser

pytestmark = pytest.mark.django_db

KNOWN = "alice@example.com"
UNKNOWN = "nobody@example.com"


def answer(response: Any) -> tuple[int, Any, str | None]:
    return response.status_code, response.json(), response.get("Retry-After")


def side_by_side(attempt: Callable[[Browser, str], Any], times: int = 1) -> tuple[list[Any], list[Any]]:
    """The answers to `times` attempts for the known and the unknown email, each from a clean slate."""
    results = []
    for email in (KNOWN, UNKNOWN):
        cache.clear()
        browser = Browser()
        results.append([answer(attempt(browser, email)) for _ in range(times)])
    return results[0], results[1]


def test_signup_with_a_registered_email_looks_like_a_new_signup(alice: User) -> None:
    known, unknown = side_by_side(
        lambda browser, email: browser.post("/auth/signup", {"email": email, "password": PASSWORD})
    )

    assert known == unknown
    assert known[0][0] == 401
    assert User.objects.filter(email=KNOWN).count() == 1
    # The owner of the taken address is told, by email, that someone tried.
    assert [message.to for message in mail.outbox] == [[KNOWN], [UNKNOWN]]
    assert "already" in str(mail.outbox[0].body)


def test_login_with_an_unknown_email_looks_like_a_wrong_password(alice: User) -> None:
    known, unknown = side_by_side(lambda browser, email: browser.login(email, "not the password at all"))

    assert known == unknown
    assert known[0][0] == 400


def test_repeated_failed_logins_look_the_same_for_both(alice: User) -> None:
    known, unknown = side_by_side(lambda browser, email: browser.login(email, "not the password at all"), times=12)

    assert known == unknown
    assert [status for status, _, _ in known][-1] == 429


def test_password_reset_for_an_unknown_email_looks_like_a_real_one(alice: User) -> None:
    known, unknown = side_by_side(lambda browser, email: browser.post("/auth/password/request", {"email": email}))

    assert known == unknown
    assert known[0] == (200, {"status": 200}, None)
    # Both get one email: a reset link, or "there is no account for this address".
    assert [message.to for message in mail.outbox] == [[KNOWN], [UNKNOWN]]


def test_repeated_password_resets_look_the_same_for_both(alice: User) -> None:
    known, unknown = side_by_side(lambda browser, email: browser.post("/auth/password/request", {"email": email}), 8)

    assert known == unknown
    assert [status for status, _, _ in known][-1] == 429


def test_unverified_account_answers_wrong_password_like_everyone_else() -> None:
    user_create(email=KNOWN, password=PASSWORD)  # not verified

    known, unknown = side_by_side(lambda browser, email: browser.login(email, "not the password at all"))

    assert known == unknown
