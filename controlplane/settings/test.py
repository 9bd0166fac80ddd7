"""Tests: real PostgreSQL and Redis on localhost (started by `make test` if needed)."""

from __future__ import annotations

import dj_database_url

from controlplane.settings.base import *  # noqa: F403
from controlplane.settings.base import VAR_DIR
from controlplane.settings.env import env_int, env_master_keys, env_str
from controlplane.settings.local_secret import read_or_create_secret

TETHER_MODE = "production"
DEBUG = False
SECRET_KEY = read_or_create_secret(VAR_DIR / "secret_key")
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# A fixed, public test key (never use it anywhere else); tests that rotate override the setting.
TETHER_MASTER_KEYS = env_master_keys("TETHER_MASTER_KEYS", "test-1:dGV0aGVyLXRlc3QtbWFzdGVyLWtleS0wMDAwMDAwMDA")

DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether"))}

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/15")
# Production gives the layer's socket a 30 s timeout (see prod.py); in the suites that makes
# pytest-asyncio's per-test loops wait on cancelled blocking pops at teardown, so the suites use
# redis-py's default and the idle-socket test sets the production value itself.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
# High enough that the suites' bursts (agents racing for thousands of runs) pass, low enough
# that the limiter still runs on every request; the rate-limit tests set their own.
TETHER_RATE_LIMIT_PER_CREDENTIAL = env_int("TETHER_RATE_LIMIT_PER_CREDENTIAL", 5000, minimum=0)
TETHER_RATE_LIMIT_PER_ORGANIZATION = env_int("TETHER_RATE_LIMIT_PER_ORGANIZATION", 10000, minimum=0)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Hashing cost is not what these tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
