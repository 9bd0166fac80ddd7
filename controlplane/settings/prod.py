"""Production: PostgreSQL (pooled), Redis, behind a TLS proxy. Every secret from the env."""

from __future__ import annotations

import dj_database_url

from controlplane.settings.base import *  # noqa: F403
from controlplane.settings.base import logging_config
from controlplane.settings.env import EnvError, env_bool, env_int, env_list, env_master_keys, env_secret, env_str

TETHER_MODE = "production"
LOGGING = logging_config("json")
DEBUG = False
SECRET_KEY = env_secret("TETHER_SECRET_KEY")
if len(SECRET_KEY) < 32:
    raise EnvError("TETHER_SECRET_KEY must be at least 32 characters long")

# Block encryption keys: never in the database, so production refuses to start without one.
TETHER_MASTER_KEYS = env_master_keys("TETHER_MASTER_KEYS")

ALLOWED_HOSTS = env_list("TETHER_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise EnvError("TETHER_ALLOWED_HOSTS is required but not set")
PUBLIC_URL = env_str("TETHER_PUBLIC_URL").rstrip("/")
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]
# The image runs collectstatic into this directory at build time.
STATIC_ROOT = env_str("TETHER_STATIC_ROOT", "/srv/tether/static")

_database_url = env_secret("DATABASE_URL")
if not _database_url.startswith(("postgres://", "postgresql://")):
    raise EnvError("DATABASE_URL must be a postgres:// or postgresql:// URL")
_database = dj_database_url.parse(_database_url)
# Under ASGI, per-thread persistent connections pile up until PostgreSQL refuses clients;
# psycopg's pool bounds them instead (CONN_MAX_AGE must stay 0 with a pool).
_database["CONN_MAX_AGE"] = 0
_database["OPTIONS"] = {
    "pool": {
        "min_size": env_int("TETHER_DB_POOL_MIN", 2, minimum=0),
        "max_size": env_int("TETHER_DB_POOL_MAX", 20, minimum=1),
        "timeout": env_int("TETHER_DB_POOL_TIMEOUT", 10, minimum=1),
    }
}
DATABASES = {"default": _database}

REDIS_URL = env_secret("REDIS_URL")
# The layer's receive blocks in BZPOPMIN for 5 s; redis-py 8's default 5 s socket timeout would
# cut that read and crash every idle WebSocket consumer, so the socket waits longer than the pop.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = REDIS_URL

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("TETHER_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("TETHER_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("TETHER_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_secret("TETHER_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TETHER_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("TETHER_EMAIL_FROM", "tether@localhost")

# The TLS proxy terminates HTTPS and tells us so.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("TETHER_SSL_REDIRECT", True)
# Probes and Prometheus reach web directly inside the network, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("TETHER_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
