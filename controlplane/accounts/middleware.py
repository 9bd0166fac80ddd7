"""Retry-After on the sign-in API's 429s (allauth answers 429 without one)."""

from __future__ import annotations

import math
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.core.internal.ratelimit import parse_rates
from django.http import HttpRequest, HttpResponseBase

from controlplane.core.around import AroundMiddleware

HEADLESS_PATH_PREFIX = "/_allauth/"

# Which allauth rate limits guard each headless route, by "<namespace>:<url name>".
RATE_LIMIT_ACTIONS_BY_ROUTE: dict[str, tuple[str, ...]] = {
    "account:login": ("login", "login_failed"),
    "account:signup": ("signup",),
    "account:request_password_reset": ("reset_password",),
    "account:reset_password": ("reset_password_from_key",),
    "account:reauthenticate": ("reauthenticate",),
    "account:change_password": ("change_password",),
    "account:manage_email": ("manage_email", "confirm_email"),
    "account:verify_email": ("confirm_email",),
    "account:resend_email_verification_code": ("confirm_email",),
    "mfa:authenticate": ("login_failed",),
    "mfa:reauthenticate": ("login_failed",),
    "mfa:manage_totp": ("login_failed",),
}


def retry_after_seconds(request: HttpRequest) -> int:
    """Seconds after which every limit guarding this route has room again.

    allauth keeps a sliding log of attempts per limit; once the longest window among the
    route's limits has passed, every attempt it logged has expired. That is an upper
    bound, so a client that honours it is not refused again by the same limits.
    """
    match = request.resolver_match
    route = f"{match.namespaces[-1]}:{match.url_name}" if match and match.namespaces else ""
    rates: dict[str, str | None] = account_settings.RATE_LIMITS
    actions = RATE_LIMIT_ACTIONS_BY_ROUTE.get(route) or tuple(rates)
    windows = [rate.duration for action in actions for rate in parse_rates(rates.get(action))]
    return max(1, math.ceil(max(windows, default=60)))


def _add_retry_after(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if (
        response.status_code == 429
        and not response.has_header("Retry-After")
        and request.path_info.startswith(HEADLESS_PATH_PREFIX)
    ):
        response["Retry-After"] = str(retry_after_seconds(request))
    return response


class RateLimitRetryAfterMiddleware(AroundMiddleware):
    """Add `Retry-After` to every 429 under /_allauth/ that lacks one."""

    def finish(self, request: HttpRequest, response: HttpResponseBase, state: Any) -> HttpResponseBase:
        return _add_retry_after(request, response)
