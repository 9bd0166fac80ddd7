"""Top-level routes. API routes live under /api/v1/; everything else GET is the SPA."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from controlplane.core import health, metrics, spa
from controlplane.events.api import hooks

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("hooks/<slug:slug>", hooks.receive, name="inbound-webhook"),
    path("api/v1/", include(("controlplane.api_urls", "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[], authentication_classes=[]),
        name="api-docs",
    ),
    path("", include("controlplane.accounts.urls")),
    re_path(r"^(?P<path>.*)$", spa.spa_index, name="spa"),
]

handler400 = "controlplane.core.errors.bad_request"
handler403 = "controlplane.core.errors.permission_denied"
handler404 = "controlplane.core.errors.page_not_found"
handler500 = "controlplane.core.errors.server_error"
