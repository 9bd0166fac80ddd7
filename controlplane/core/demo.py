"""The demo tenant that the embedded mode provisions so a first visit has something to show."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from controlplane.accounts.models import User

DEMO_EMAIL = "demo@tether.local"


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str


def _demo_password() -> str:
    """The demo password is generated once per var/ directory and kept 0600 beside the data."""
    path = settings.VAR_DIR / "demo_credentials.json"
    if path.exists():
        return str(json.loads(path.read_text(encoding="utf-8"))["password"])
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"email": DEMO_EMAIL, "password": password}, handle)
    return password


@transaction.atomic
def provision_demo() -> DemoCredentials:
    """Idempotent: create the demo user once; later calls return the same credentials."""
    password = _demo_password()
    user, created = User.objects.get_or_create(email=DEMO_EMAIL)
    if created or not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return DemoCredentials(email=DEMO_EMAIL, password=password)
