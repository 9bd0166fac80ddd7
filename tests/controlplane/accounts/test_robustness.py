"""Whatever is sent to the sign-in API, it answers 4xx or 2xx, never 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import get_resolver

from controlplane.accounts.models import User
from tests.support.headless import APP, BROWSER, PASSWORD

pytestmark = pytest.mark.django_db

BODIES = [
    "",
    "{}",
    "[]",
    "null",
    "not json",
    "\x00",
    json.dumps({"email": "x", "password": 1, "key": None, "code": [], "sessions": ["nope"], "new_password": {}}),
    json.dumps({"email": "a" * 100_000 + "@example.com", "password": "p" * 100_000}),
    json.dumps({"email": "nul\x00@example.com", "password": "nul\x00", "key": "\x00", "code": "\x00"}),
]


def headless_paths() -> list[str]:
    paths: list[str] = []

    def walk(resolver: Any, prefix: str) -> None:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern, route)
            elif route.startswith("_allauth/"):
                paths.append("/" + route)

    walk(get_resolver(), "")
    return sorted(set(paths))


def test_every_headless_route_is_covered() -> None:
    paths = headless_paths()
    assert f"{BROWSER}/auth/login" in paths
    assert f"{APP}/auth/login" in paths
    assert f"{BROWSER}/account/authenticators/totp" in paths


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_no_route_method_or_body_gives_a_server_error(alice: User, signed_in: bool) -> None:
    browser = Client()
    app_headers: dict[str, str] = {}
    if signed_in:
        credentials = {"email": alice.email, "password": PASSWORD}
        assert browser.post(f"{BROWSER}/auth/login", credentials, content_type="application/json").status_code == 200
        login = Client().post(f"{APP}/auth/login", credentials, content_type="application/json")
        app_headers = {"X-Session-Token": login.json()["meta"]["session_token"]}

    failures = []
    for path in headless_paths():
        cache.clear()  # so rate limits do not hide a route's handling behind a 429
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            for body in BODIES:
                headers = app_headers if path.startswith(APP) else {}
                response = browser.generic(method, path, data=body, content_type="application/json", headers=headers)
                if response.status_code >= 500:
                    failures.append((method, path, body[:40], response.status_code))
    assert failures == []


@pytest.mark.parametrize("path", ["account/phone", "auth/phone/verify", "auth/phone/verify/resend"])
def test_phone_routes_are_not_offered(alice: User, path: str) -> None:
    client = Client()
    client.post(f"{BROWSER}/auth/login", {"email": alice.email, "password": PASSWORD}, content_type="application/json")

    assert client.get(f"{BROWSER}/{path}").status_code == 404
    assert (
        client.post(f"{BROWSER}/{path}", {"phone": "+15555550100"}, content_type="application/json").status_code == 404
    )
