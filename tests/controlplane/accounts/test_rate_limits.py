"""Repeated sign-in, sign-up, reset and MFA attempts answer 429 with Retry-After."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from allauth.account import app_settings as account_settings
from allauth.core.internal import ratelimit
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import connections
from django.test import AsyncClient
from django.urls import get_resolver

from controlplane.accounts.middleware import RATE_LIMIT_ACTIONS_BY_ROUTE
from controlplane.accounts.models import User
from tests.controlplane.accounts.test_mfa import activate_totp
from tests.support.headless import BROWSER, PASSWORD, Browser, totp_code

pytestmark = pytest.mark.django_db

WRONG = "certainly not the password"


def retry_after(response: Any) -> int:
    assert response.status_code == 429
    assert response.json()["status"] == 429
    return int(response["Retry-After"])


def test_100_wrong_passwords_for_one_email_end_in_429(alice: User, browser: Browser) -> None:
    responses = [browser.login(alice.email, WRONG) for _ in range(100)]

    statuses = [response.status_code for response in responses]
    assert statuses[:5] == [400] * 5
    assert set(statuses[5:]) == {429}  # 5 failures per email per 5 minutes
    assert 0 < retry_after(responses[-1]) <= 300
    # Locked means locked: the right password does not get through either.
    assert retry_after(browser.login(alice.email)) > 0
    assert not browser.is_authenticated()


def test_100_logins_for_different_emails_from_one_address_end_in_429(alice: User, browser: Browser) -> None:
    responses = [browser.login(f"guess{n}@example.com", WRONG) for n in range(100)]

    statuses = [response.status_code for response in responses]
    assert statuses[:10] == [400] * 10  # 10 failures per address per minute
    assert set(statuses[10:]) == {429}
    assert retry_after(responses[-1]) > 0


def test_100_password_reset_requests_end_in_429(alice: User, browser: Browser) -> None:
    responses = [browser.post("/auth/password/request", {"email": alice.email}) for _ in range(100)]

    statuses = [response.status_code for response in responses]
    assert statuses[:5] == [200] * 5  # 5 per email per minute
    assert set(statuses[5:]) == {429}
    assert 0 < retry_after(responses[-1]) <= 60


def test_100_password_reset_requests_for_different_emails_end_in_429(browser: Browser) -> None:
    responses = [browser.post("/auth/password/request", {"email": f"who{n}@example.com"}) for n in range(100)]

    statuses = [response.status_code for response in responses]
    assert statuses[:20] == [200] * 20  # 20 per address per minute
    assert set(statuses[20:]) == {429}
    assert retry_after(responses[-1]) > 0


def test_100_signups_end_in_429(browser: Browser) -> None:
    responses = [
        Browser().post("/auth/signup", {"email": f"new{n}@example.com", "password": PASSWORD}) for n in range(100)
    ]

    statuses = [response.status_code for response in responses]
    assert statuses[:20] == [401] * 20  # signed up, email to verify; 20 per address per minute
    assert set(statuses[20:]) == {429}
    assert retry_after(responses[-1]) > 0
    assert User.objects.count() == 20


def test_100_wrong_mfa_codes_end_in_429(alice: User, alice_browser: Browser) -> None:
    secret, _ = activate_totp(alice_browser)
    browser = Browser()
    browser.login(alice.email)
    good = totp_code(secret)
    wrong = "000000" if good != "000000" else "111111"

    responses = [browser.post("/auth/2fa/authenticate", {"code": wrong}) for _ in range(100)]

    statuses = [response.status_code for response in responses]
    assert statuses[:5] == [400] * 5  # 5 wrong codes per user per 5 minutes
    assert set(statuses[5:]) == {429}
    assert 0 < retry_after(responses[-1]) <= 300
    assert retry_after(browser.post("/auth/2fa/authenticate", {"code": good})) > 0
    assert not browser.is_authenticated()


def test_waiting_retry_after_seconds_is_enough(alice: User, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(5):
        browser.post("/auth/password/request", {"email": alice.email})
    limited = browser.post("/auth/password/request", {"email": alice.email})
    wait = retry_after(limited)

    # Move allauth's rate-limit clock forward, not the test's.
    later = time.time() + wait
    monkeypatch.setattr(
        ratelimit, "time", SimpleNamespace(time=lambda: later, monotonic=time.monotonic, sleep=time.sleep)
    )

    assert browser.post("/auth/password/request", {"email": alice.email}).status_code == 200


def test_limits_live_in_the_shared_cache(alice: User, browser: Browser) -> None:
    for _ in range(6):
        browser.post("/auth/password/request", {"email": alice.email})
    assert browser.post("/auth/password/request", {"email": alice.email}).status_code == 429

    cache.clear()  # e.g. a Redis flush: the limits start over

    assert browser.post("/auth/password/request", {"email": alice.email}).status_code == 200


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_retry_after_is_added_under_asgi_too() -> None:
    client = AsyncClient()
    url = f"{BROWSER}/auth/password/request"
    statuses = []
    try:
        for _ in range(7):
            response = await client.post(url, {"email": "nobody@example.com"}, content_type="application/json")
            statuses.append(response.status_code)
    finally:
        # The views ran in asgiref's worker thread; close its connection so teardown can drop the database.
        await sync_to_async(connections.close_all)()

    assert statuses == [200] * 5 + [429] * 2
    assert int(response["Retry-After"]) > 0


def _headless_routes() -> set[str]:
    names: set[str] = set()

    def walk(resolver: Any, namespaces: tuple[str, ...]) -> None:
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern, (*namespaces, pattern.namespace) if pattern.namespace else namespaces)
            elif namespaces[:1] == ("headless",) and pattern.name:
                names.add(f"{namespaces[-1]}:{pattern.name}")

    walk(get_resolver(), ())
    return names


def test_retry_after_map_names_real_routes_and_configured_limits() -> None:
    routes = _headless_routes()
    assert "account:login" in routes
    for route, actions in RATE_LIMIT_ACTIONS_BY_ROUTE.items():
        assert route in routes, route
        for action in actions:
            assert account_settings.RATE_LIMITS.get(action), action
