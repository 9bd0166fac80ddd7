"""Request guards that run before any view."""

from __future__ import annotations

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.functional import SimpleLazyObject, empty

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


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware with the storage made on first use.

    Building it (a cookie and a session backend) for every request showed in profiles of the
    API, whose calls never use messages; sign-in flows that do get the same storage as before.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        stored = getattr(request, "_messages", None)
        if isinstance(stored, SimpleLazyObject) and stored._wrapped is empty:  # type: ignore[attr-defined]
            return response  # never used: nothing to save
        return super().process_response(request, response)
