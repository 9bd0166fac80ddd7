"""Request guards that run before any view."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from controlplane.core.around import AroundMiddleware
from controlplane.core.errors import error_body


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


class BodySizeLimitMiddleware(AroundMiddleware):
    """Refuse a declared body over the limit with 413 before anything reads it."""

    def refuse(self, request: HttpRequest) -> HttpResponseBase | None:
        return _refusal(request)
