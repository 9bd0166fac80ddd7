"""Tether's hooks into django-allauth (ACCOUNT_ADAPTER, HEADLESS_ADAPTER, ACCOUNT_USER_DISPLAY)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from allauth.headless import app_settings as headless_settings
from allauth.headless.adapter import DefaultHeadlessAdapter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from controlplane.accounts.models import User

# allauth reports these limits as a form error (400); for API clients they are 429s.
_RATE_LIMIT_ERROR_CODES = frozenset({"too_many_login_attempts", "rate_limited"})


@dataclass(frozen=True)
class PublicSite:
    """What allauth's email templates read from `current_site`."""

    name: str
    domain: str


def user_display(user: User) -> str:
    return user.name or user.email


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def validation_error(self, code: str, *args: Any) -> ValidationError:
        """Turn a rate-limit refusal inside a headless form into a 429 response.

        allauth's failed-login limit (wrong passwords per email, wrong MFA codes per user)
        surfaces as a validation error while the form is cleaned. Raising
        ImmediateHttpResponse here leaves the form and AccountMiddleware answers with
        allauth's own headless 429 body; RateLimitRetryAfterMiddleware adds Retry-After.
        """
        request = context.request
        if code in _RATE_LIMIT_ERROR_CODES and hasattr(getattr(request, "allauth", None), "headless"):
            raise ImmediateHttpResponse(respond_429(request))
        error: ValidationError = super().validation_error(code, *args)
        return error

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # allauth names the site after the request's Host ("Hello from 127.0.0.1:8000!").
        site = PublicSite(name="Tether", domain=urlsplit(settings.PUBLIC_URL).netloc)
        super().send_mail(template_prefix, email, {"current_site": site, **context})


class HeadlessAdapter(DefaultHeadlessAdapter):  # type: ignore[misc]
    def get_frontend_url(self, urlname: str, **kwargs: Any) -> str:
        """The SPA route for `urlname`, on settings.PUBLIC_URL (never the request's Host)."""
        path: str | None = headless_settings.FRONTEND_URLS.get(urlname)
        if not path:
            raise ImproperlyConfigured(f"settings.HEADLESS_FRONTEND_URLS['{urlname}'] is not set")
        for name, value in kwargs.items():
            path = path.replace(f"{{{name}}}", quote(str(value), safe=""))
        return f"{settings.PUBLIC_URL}{path}"
