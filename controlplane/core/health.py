"""Liveness and readiness probes for load balancers, orchestrators and `make up`."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "not configured"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving requests (no database)."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: database unreachable: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_redis() -> str:
    url = settings.REDIS_URL
    if not url:
        return NOT_CONFIGURED
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        logger.warning("readiness: redis unreachable: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database and (where configured) Redis answer."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    ready = all(value in ("ok", NOT_CONFIGURED) for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
