"""Serve the single-page app: index.html for `/` and every client-side route."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie

from controlplane.core.errors import error_body

# Paths that belong to the server; a miss under them is a JSON 404, never the SPA.
SERVER_PREFIXES = ("api/", "_allauth/", "static/", "ws/", "hooks/", "healthz", "readyz", "metrics")

_NOT_BUILT = (
    "<!doctype html><title>Tether</title><h1>The web UI has not been built</h1>"
    "<p>Run <code>make up</code> (or <code>npm ci &amp;&amp; npm run build</code> in "
    "<code>frontend/</code>) to build it. The API is available at <a href='/api/docs/'>/api/docs/</a>.</p>"
)


@ensure_csrf_cookie
def spa_index(request: HttpRequest, path: str = "") -> HttpResponse:
    """Answer with the SPA's index.html; the client-side router takes it from there."""
    if path.startswith(SERVER_PREFIXES):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    if request.method not in ("GET", "HEAD"):
        refusal = JsonResponse(error_body("method_not_allowed", f'Method "{request.method}" not allowed.'), status=405)
        refusal["Allow"] = "GET, HEAD"
        return refusal
    index = settings.FRONTEND_DIST / "index.html"
    try:
        html = index.read_bytes()
    except FileNotFoundError:
        return HttpResponse(_NOT_BUILT, status=503)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # index.html names hashed assets; it must never be cached or a deploy shows stale code.
    response["Cache-Control"] = "no-cache"
    return response
