"""Embedded mode (`make up`): one machine, no external services.

SQLite runs in WAL mode with IMMEDIATE transactions: every transaction takes the write
lock when it begins, so two writers queue on the busy timeout instead of one failing with
"database is locked" when it upgrades a read lock mid-transaction.
"""

from __future__ import annotations

from controlplane.settings.base import *  # noqa: F403
from controlplane.settings.base import VAR_DIR
from controlplane.settings.env import env_bool, env_master_keys, env_secret, env_str
from controlplane.settings.local_secret import read_or_create_master_keys, read_or_create_secret

TETHER_MODE = "embedded"
DEBUG = env_bool("TETHER_DEBUG", False)
SECRET_KEY = env_secret("TETHER_SECRET_KEY", "") or read_or_create_secret(VAR_DIR / "secret_key")
# Block encryption keys: from the environment if set, else a key file generated once under
# var/ (never the database). Back that file up: blocks cannot be decrypted without it.
TETHER_MASTER_KEYS = env_master_keys("TETHER_MASTER_KEYS", "") or read_or_create_master_keys(VAR_DIR / "master_keys")

SQLITE_PATH = env_str("TETHER_SQLITE_PATH", str(VAR_DIR / "tether.sqlite3"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SQLITE_PATH,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;"
            ),
        },
        # Tests need a file (not :memory:) so several threads share one database.
        "TEST": {"NAME": str(VAR_DIR / "test-embedded.sqlite3")},
    }
}

CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

TETHER_RUN_SERVICES_IN_PROCESS = True
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
