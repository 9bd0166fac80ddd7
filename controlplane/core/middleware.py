"""Request guards that run before any view."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from controlplane.core.around import AroundMiddleware
from controlplane.core.errors import error_body
from controlplane.core.parsers import unstorable_reason


def _refusal(request: HttpRequest) -> JsonResponse | None:
    limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(declared)
    except ValueError:
        return JsonResponse(error_body("bad_request", "Content-Length is not a number."), status=400)
    if length > limit:
        message = f"The request body is {length} bytes; the limit is {limit} bytes."
        return JsonResponse(error_body("payload_too_large", message, {"limit_bytes": limit}), status=413)
    return None


def _unstorable_query(request: HttpRequest) -> JsonResponse | None:
    """A NUL in a query parameter reaches PostgreSQL as a filter value, which it refuses with an error."""
    for name, values in request.GET.lists():
        for text in (name, *values):
            reason = unstorable_reason(text)
            if reason:
                return JsonResponse(error_body("invalid", f"Query parameter: {reason}", {name: [reason]}), status=400)
    return None


class BodySizeLimitMiddleware(AroundMiddleware):
    """Refuse before any view: a declared body over the limit (413), unstorable text in the query string (400)."""

    def refuse(self, request: HttpRequest) -> HttpResponseBase | None:
        return _refusal(request) or _unstorable_query(request)
