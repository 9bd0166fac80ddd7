"""Settings shared by every mode. Mode modules import * from here and override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controlplane import __version__
from controlplane.settings.auth import *  # noqa: F403
from controlplane.settings.auth import AUTH_APPS, AUTH_MIDDLEWARE
from controlplane.settings.env import EnvError, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("TETHER_VAR_DIR", str(BASE_DIR / "var")))
FRONTEND_DIST = Path(env_str("TETHER_FRONTEND_DIST", str(BASE_DIR / "frontend" / "dist")))

TETHER_VERSION = __version__
# "embedded" or "production"; shown by /api/v1/info/ and used to pick in-process services.
TETHER_MODE = "embedded"

DEBUG = False
ALLOWED_HOSTS = env_list("TETHER_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
PUBLIC_URL = env_str("TETHER_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "controlplane.core",
    "controlplane.accounts",
    "controlplane.orgs",
    "controlplane.apikeys",
    "controlplane.blocks",
    "controlplane.flows",
    "controlplane.runs",
    "controlplane.workpools",
    "controlplane.concurrency",
    "controlplane.events",
    "controlplane.automations",
    "controlplane.audit",
    "controlplane.realtime",
    "controlplane.services",
    *AUTH_APPS,
]

MIDDLEWARE = [
    # Outermost, so every response (redirects and refusals too) carries an id and is timed.
    "controlplane.core.request_id.RequestIdMiddleware",
    "controlplane.core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "controlplane.core.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "controlplane.core.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    *AUTH_MIDDLEWARE,
]

ROOT_URLCONF = "controlplane.urls"
ASGI_APPLICATION = "controlplane.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.is_dir() else []
# Static files are served at the ASGI layer from the finders' directories (controlplane/core/
# static.py): no collectstatic step in any mode, and Django never sees those requests.

# Worker threads that run HTTP requests (controlplane/core/asgi_http.py); keep it at or below
# the database pool size.
TETHER_HTTP_THREADS = env_int("TETHER_HTTP_THREADS", 16, minimum=1)
# Claims that may wait at once (long-polls, agents' and task workers' together) in each web
# process (controlplane/core/long_polls.py); each holds one of the threads above while it
# waits. A long-poll beyond the cap claims once without waiting and answers at once with
# `retry_after_seconds`. Keep it well below TETHER_HTTP_THREADS.
TETHER_LONG_POLLS_PER_PROCESS = env_int("TETHER_LONG_POLLS_PER_PROCESS", max(1, TETHER_HTTP_THREADS // 2), minimum=1)

# Rate limits per API request (controlplane/core/ratelimit.py): requests a second for each
# credential (API key, run token, signed-in user) and for each organisation, with bursts of
# this many seconds' worth. 0 turns a limit off.
TETHER_RATE_LIMIT_PER_CREDENTIAL = env_int("TETHER_RATE_LIMIT_PER_CREDENTIAL", 50, minimum=0)
TETHER_RATE_LIMIT_PER_ORGANIZATION = env_int("TETHER_RATE_LIMIT_PER_ORGANIZATION", 100, minimum=0)
TETHER_RATE_LIMIT_BURST_SECONDS = env_int("TETHER_RATE_LIMIT_BURST_SECONDS", 2, minimum=1)

# Request limits: a body larger than this is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TETHER_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REST_FRAMEWORK = {
    # Deny by default: every view must say who may call it.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "controlplane.apikeys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["controlplane.core.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "controlplane.core.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "controlplane.core.pagination.TetherCursorPagination",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tether API",
    "DESCRIPTION": (
        "The control plane API of Tether: organisations, workspaces, deployments, runs, "
        "agents and blocks. Workspace resources live under "
        "/api/v1/orgs/{org_slug}/workspaces/{ws_slug}/."
    ),
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrgRoleEnum": "controlplane.orgs.roles.OrgRole",
        "WorkspaceRoleEnum": "controlplane.orgs.roles.WorkspaceRole",
        "WorkPoolTypeEnum": "controlplane.workpools.models.WorkPoolType",
        "ScheduleKindEnum": "controlplane.flows.models.ScheduleKind",
        "SlaKindEnum": "controlplane.automations.models.SlaKind",
        "ArtifactTypeEnum": "controlplane.runs.models.ArtifactType",
        "StateTypeEnum": "controlplane.runs.states.StateType",
    },
}

LOG_FORMATS = {"text": "plain", "json": "json"}


def logging_config(default_format: str) -> dict[str, Any]:
    """TETHER_LOG_FORMAT: "text" for a terminal, "json" (one object a line, with request ids) for shippers."""
    log_format = env_str("TETHER_LOG_FORMAT", default_format)
    if log_format not in LOG_FORMATS:
        raise EnvError(f"TETHER_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": "controlplane.core.logging_json.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMATS[log_format]}},
        "root": {"handlers": ["console"], "level": env_str("TETHER_LOG_LEVEL", "INFO")},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "uvicorn.access": {"level": "WARNING"},
        },
    }


LOGGING = logging_config("text")

# /metrics answers 404 while this is empty; otherwise it wants `Authorization: Bearer <token>`.
TETHER_METRICS_TOKEN = env_secret("TETHER_METRICS_TOKEN", "")

# Dispatch timings, sent to every agent at hello so a fleet is tuned centrally (docs/dispatch.md).
TETHER_AGENT_HEARTBEAT_SECONDS = env_int("TETHER_AGENT_HEARTBEAT_SECONDS", 15, minimum=1)
TETHER_AGENT_LEASE_SECONDS = env_int("TETHER_AGENT_LEASE_SECONDS", 60, minimum=2)
TETHER_AGENT_LONG_POLL_SECONDS = env_int("TETHER_AGENT_LONG_POLL_SECONDS", 25, minimum=0)
TETHER_AGENT_PREFETCH_SECONDS = env_int("TETHER_AGENT_PREFETCH_SECONDS", 5, minimum=0)

# In-process periodic services (embedded mode); production uses Celery beat instead.
TETHER_RUN_SERVICES_IN_PROCESS = False

# The scheduler keeps at least MIN_RUNS and MIN_SECONDS of runs ahead of each schedule, and
# never more than MAX_RUNS or MAX_SECONDS. A SCHEDULED run this late becomes Late.
TETHER_SCHEDULER_MIN_RUNS = env_int("TETHER_SCHEDULER_MIN_RUNS", 3, minimum=1)
TETHER_SCHEDULER_MAX_RUNS = env_int("TETHER_SCHEDULER_MAX_RUNS", 100, minimum=1)
TETHER_SCHEDULER_MIN_SECONDS = env_int("TETHER_SCHEDULER_MIN_SECONDS", 3600, minimum=0)
TETHER_SCHEDULER_MAX_SECONDS = env_int("TETHER_SCHEDULER_MAX_SECONDS", 100 * 86400, minimum=60)
TETHER_LATE_AFTER_SECONDS = env_int("TETHER_LATE_AFTER_SECONDS", 15, minimum=1)
# A CANCELLING run with no live lease is finalised as CANCELLED after this long.
TETHER_CANCELLING_TIMEOUT_SECONDS = env_int("TETHER_CANCELLING_TIMEOUT_SECONDS", 300, minimum=1)

# Events and automations (docs/events.md, docs/automations.md).
TETHER_EVENTS_MAX_BATCH = env_int("TETHER_EVENTS_MAX_BATCH", 1000, minimum=1)
TETHER_EVENT_MAX_BYTES = env_int("TETHER_EVENT_MAX_BYTES", 64 * 1024, minimum=1024)
TETHER_WEBHOOK_MAX_BYTES = env_int("TETHER_WEBHOOK_MAX_BYTES", 256 * 1024, minimum=1024)
TETHER_WEBHOOK_CALLS_PER_MINUTE = env_int("TETHER_WEBHOOK_CALLS_PER_MINUTE", 600, minimum=1)
# Outgoing notifications and webhooks never reach loopback, private, link-local or metadata
# addresses, except the hosts and networks (CIDRs) listed here.
TETHER_OUTBOUND_ALLOW = env_list("TETHER_OUTBOUND_ALLOW", [])
TETHER_OUTBOUND_TIMEOUT_SECONDS = env_int("TETHER_OUTBOUND_TIMEOUT_SECONDS", 10, minimum=1)
TETHER_ACTION_MAX_ATTEMPTS = env_int("TETHER_ACTION_MAX_ATTEMPTS", 5, minimum=1)

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Longer than any countdown we schedule, so Redis never re-delivers a waiting task.
CELERY_VISIBILITY_TIMEOUT_SECONDS = env_int("TETHER_CELERY_VISIBILITY_TIMEOUT_SECONDS", 6 * 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    # How often a worker looks for tasks whose visibility timeout passed (a dead worker's): at
    # most every 10 s, sooner for a short timeout (kombu's default scans only every ~100 s).
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT_SECONDS // 2)),
    "unacked_restore_throttle": 1,
}

# Set by modes that use Redis (channel layer, broker, cache); /readyz checks it when set.
REDIS_URL: str | None = None
