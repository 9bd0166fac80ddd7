"""Request guards that run before any view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction

from asgiref.sync import markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

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


class BodySizeLimitMiddleware:
    """Refuse a declared body over the limit with 413 before anything reads it.

    Sync and async capable, so it never forces a thread hop under ASGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        return _refusal(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        refusal = _refusal(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        assert not isinstance(response, HttpResponse)
        return await response
