"""Sign-in settings (django-allauth, headless for the SPA). Imported by base.py."""

from __future__ import annotations

AUTH_APPS: list[str] = []
AUTH_MIDDLEWARE: list[str] = []
