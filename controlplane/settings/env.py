"""Typed readers for environment variables.

Every setting that comes from the environment goes through one of these, so a wrong or
missing value fails at start-up with a one-line message naming the variable. Secrets may
also come from a file named by ``<NAME>_FILE`` (Docker and Kubernetes secrets).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class EnvError(ImproperlyConfigured):
    """A required environment variable is missing or malformed."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None) -> str:
    value = _raw(name)
    if value:
        return value
    if default is None:
        raise EnvError(f"{name} is required but not set")
    return default


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if not value:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE``.

    Setting both is an error: one of them would be silently ignored.
    """
    file_var = f"{name}_FILE"
    direct = _raw(name)
    file_path = _raw(file_var)
    if direct and file_path:
        raise EnvError(f"set only one of {name} and {file_var}")
    if file_path:
        path = Path(file_path)
        try:
            content = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EnvError(f"{file_var} points to {file_path!r}, which cannot be read ({exc.strerror})") from None
        if not content:
            raise EnvError(f"{file_var} points to {file_path!r}, which is empty")
        return content
    if direct:
        return direct
    if default is None:
        raise EnvError(f"{name} (or {file_var}) is required but not set")
    return default


def load_settings_or_exit() -> None:
    """Import the settings module now, turning an EnvError into a one-line message.

    Called by entry points (manage.py, the ASGI app, Celery) so that operators see
    ``tether: configuration error: DATABASE_URL is required but not set`` and not a
    traceback.
    """
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    try:
        importlib.import_module(module)
    except EnvError as exc:
        print(f"tether: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def env_master_keys(name: str = "TETHER_MASTER_KEYS", default: str | None = None) -> str:
    """The master keys (``key_id:base64url``, comma-separated, newest first), validated now.

    Read like a secret (``NAME`` or ``NAME_FILE``); a malformed value fails start-up with a
    one-line message that names key ids and positions but never key material.
    """
    from controlplane.blocks.keyring import MasterKeyError, parse_master_keys

    value = env_secret(name, default)
    if not value:
        return value
    try:
        parse_master_keys(value)
    except MasterKeyError as exc:
        raise EnvError(f"{name}: {exc}") from None
    return value
