"""`POST /hooks/{slug}`: the one unauthenticated way in, for systems that can only call a URL.

It answers 404 alike for an unknown slug, a disabled webhook and a wrong secret, reads at
most `TETHER_WEBHOOK_MAX_BYTES`, and is rate-limited per webhook. The request becomes an
event through the webhook's template; the response never echoes the request.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ValidationError

from controlplane.core.errors import TetherError, error_body
from controlplane.core.parsers import unstorable_reason
from controlplane.core.tenancy import tenant_scope
from controlplane.events.api.serializers import EventInSerializer
from controlplane.events.services import events_ingest, inbound_webhook_authenticate, inbound_webhook_event

SECRET_HEADER = "HTTP_X_TETHER_SECRET"  # noqa: S105 - a header name, not a secret


def _secret(request: HttpRequest) -> str:
    secret = request.META.get(SECRET_HEADER, "")
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if not secret and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    return str(secret)


def _rate_limited(slug: str) -> int | None:
    """Seconds to wait when the webhook had more than its share of calls this minute."""
    window = int(time.time() // 60)
    key = f"tether:hook:{slug}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        calls = cache.incr(key)
    except ValueError:
        return None
    if calls > settings.TETHER_WEBHOOK_CALLS_PER_MINUTE:
        return 60 - int(time.time()) % 60
    return None


def _body(request: HttpRequest) -> Any:
    raw = request.body
    text = raw.decode("utf-8", errors="replace")
    if "json" in (request.content_type or "") or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise TetherError("The body is not valid JSON.") from None
    return text


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _error(exc: TetherError, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@csrf_exempt
def receive(request: HttpRequest, slug: str) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse(error_body("not_found", "Not found."), status=404)  # reveals nothing about the slug
    limit: int = settings.TETHER_WEBHOOK_MAX_BYTES
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return JsonResponse(error_body("payload_too_large", f"A webhook body is at most {limit} bytes."), status=413)
    try:
        webhook = inbound_webhook_authenticate(slug=slug, secret=_secret(request))
    except TetherError as exc:
        return _error(exc)
    wait = _rate_limited(slug)
    if wait is not None:
        message = "Too many calls to this webhook; slow down."
        body = error_body("throttled", message, {"retry_after_seconds": wait})
        return JsonResponse(body, status=429, headers={"Retry-After": str(wait)})
    try:
        body = _body(request)
        context = {
            "body": body,
            "headers": {
                key.lower(): value
                for key, value in request.headers.items()
                if key.lower() not in ("x-tether-secret", "authorization", "cookie")
            },
            "query": {key: request.GET.get(key) for key in request.GET},
        }
        rendered = inbound_webhook_event(webhook=webhook, context=context)
        reason = next(filter(None, map(unstorable_reason, _strings(rendered))), None)
        if reason:
            raise TetherError(reason)
        data = EventInSerializer(data=rendered)
        if not data.is_valid():
            raise TetherError(
                "The webhook's template made an invalid event from this request.",
                details={"event": json.loads(json.dumps(data.errors, default=str))},
            )
        with tenant_scope(organization_id=webhook.workspace.organization_id, workspace_id=webhook.workspace_id):
            events_ingest(workspace=webhook.workspace, events=[dict(data.validated_data)])
    except (TetherError, ValidationError) as exc:
        return _error(exc if isinstance(exc, TetherError) else TetherError(str(exc)))
    return JsonResponse({"accepted": True}, status=202)
