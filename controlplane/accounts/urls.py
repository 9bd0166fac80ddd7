"""Sign-in routes (allauth headless) mounted at the site root.

/_allauth/browser/v1/... for the SPA (session cookie + CSRF token) and
/_allauth/app/v1/... for other clients (X-Session-Token header). See docs/accounts.md.
"""

from django.urls import URLPattern, URLResolver, include, path

from controlplane.core.errors import page_not_found

# allauth always mounts its phone routes; Tether has no phone sign-in (and no SMS
# sender), and those views fail with a 500 without one. They answer 404 instead.
_PHONE_ROUTES = ("account/phone", "auth/phone/verify", "auth/phone/verify/resend")
_CLIENTS = ("browser", "app")

urlpatterns: list[URLPattern | URLResolver] = [
    *(path(f"_allauth/{client}/v1/{route}", page_not_found) for client in _CLIENTS for route in _PHONE_ROUTES),
    path("_allauth/", include("allauth.headless.urls")),
]
