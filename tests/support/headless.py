"""Drive allauth's headless API the way the SPA does: a cookie jar and the CSRF header."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import unquote

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core import mail
from django.test import Client

BROWSER = "/_allauth/browser/v1"
APP = "/_allauth/app/v1"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different horse, stapled"


class Browser:
    """One browser: its own cookies, CSRF enforced, the token sent as the SPA sends it."""

    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)

    def csrf_token(self) -> str:
        if "csrftoken" not in self.client.cookies:
            # Any browser endpoint sets the cookie; the SPA starts with /config.
            self.client.get(f"{BROWSER}/config")
        return str(self.client.cookies["csrftoken"].value)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(f"{BROWSER}{path}", headers=headers)

    def send(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.generic(
            method,
            f"{BROWSER}{path}",
            data="" if data is None else json.dumps(data),
            content_type="application/json",
            headers={"X-CSRFToken": self.csrf_token()},
        )

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.send("POST", path, data)

    def delete(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.send("DELETE", path, data)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        return self.post("/auth/login", {"email": email, "password": password})

    def reauthenticate(self, password: str = PASSWORD) -> Any:
        return self.post("/auth/reauthenticate", {"password": password})

    def is_authenticated(self) -> bool:
        response = self.get("/auth/session")
        return response.status_code == 200 and response.json()["meta"]["is_authenticated"] is True


def pending_flows(response: Any) -> list[str]:
    return [flow["id"] for flow in response.json()["data"]["flows"] if flow.get("is_pending")]


def link_key(route: str, to: str) -> str:
    """The {key} in the newest email to `to` that links to the SPA route `route`."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no email sent to {to}"
    body = str(messages[-1].body)
    match = re.search(re.escape(f"{settings.PUBLIC_URL}{route}") + r"(\S+)", body)
    assert match, f"no {route} link in:\n{body}"
    return unquote(match.group(1))


def totp_code(secret: str, *, step: int = 0) -> str:
    """The TOTP code for now (+ `step` periods), from allauth's own HOTP implementation."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + step
    return str(format_hotp_value(hotp_value(secret, counter)))


def api(browser: Browser, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    """Call Tether's own API from the signed-in browser, CSRF header included."""
    if method == "GET":
        return browser.client.get(path)
    return browser.client.generic(
        method,
        path,
        data="" if data is None else json.dumps(data),
        content_type="application/json",
        headers={"X-CSRFToken": browser.csrf_token()},
    )
