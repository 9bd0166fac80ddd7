"""The control plane's error tree and its single JSON shape.

Every API error, whatever raised it, answers::

    {"error": {"code": "not_found", "message": "Not found.", "details": {}}}

Services raise `TetherError` subclasses; DRF and Django exceptions are translated here, so
views never build error responses by hand.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


class TetherError(Exception):
    """Base of every error the control plane reports to a client on purpose."""

    status_code = 400
    code = "bad_request"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class ValidationFailed(TetherError):
    status_code = 422
    code = "validation_failed"
    default_message = "The request is well-formed but its content is not valid."


class NotFound(TetherError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Forbidden(TetherError):
    status_code = 403
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class Conflict(TetherError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state of the resource."


class ServiceUnavailable(TetherError):
    status_code = 503
    code = "service_unavailable"
    default_message = "The database is unreachable for a moment; retry shortly."


# The database restarting or unreachable: clients retry a 503 (with Retry-After); a 500 says "bug".
DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 2


class PayloadTooLarge(TetherError):
    status_code = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _drf_details(detail: Any) -> tuple[str, dict[str, Any]]:
    """Split a DRF ValidationError detail into a summary message and field details."""
    if isinstance(detail, dict):
        return "Invalid input.", {key: _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        messages = [str(item) for item in detail]
        return (messages[0] if len(messages) == 1 else "Invalid input."), {"non_field_errors": messages}
    return str(detail), {}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value)


_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.ParseError: "parse_error",
    drf.Throttled: "throttled",
    drf.ValidationError: "invalid",
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error in the one JSON shape."""
    if isinstance(exc, TetherError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        set_rollback()
        unavailable = ServiceUnavailable()
        retry_after = {"Retry-After": str(DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS)}
        return Response(error_body(unavailable.code, unavailable.message), status=503, headers=retry_after)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(details={"limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if not isinstance(exc, drf.APIException):
        return None  # a bug: let Django's handler500 answer (JSON, logged)

    set_rollback()
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, drf.ValidationError):
        message, details = _drf_details(exc.detail)
    else:
        message, details = str(exc.detail), {}
    headers: dict[str, str] = {}
    wait: float | None = getattr(exc, "wait", None)
    if isinstance(exc, drf.Throttled) and wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
        details = {"retry_after_seconds": int(headers["Retry-After"])}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(403, "permission_denied", "You do not have permission to perform this action.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> JsonResponse:
    # Django has already logged the exception with its traceback; the client gets no detail.
    return _json_error(500, "server_error", "An unexpected error occurred; it has been logged.")


@contextmanager
def unique_or_conflict(message: str, *, field: str | None = None) -> Iterator[None]:
    """Turn a unique-constraint violation inside the block into a 409 (the block gets a savepoint)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise Conflict(message, details={field: ["taken"]} if field else None) from None
