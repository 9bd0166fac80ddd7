"""The demo tenant the embedded mode provisions, so a first visit has something to show."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from django.conf import settings

from controlplane.orgs.bootstrap import BootstrapResult, bootstrap

DEMO_EMAIL = "demo@tether.local"
DEMO_ORG = "demo"
DEMO_WORKSPACE = "default"


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    tenant: BootstrapResult


def _demo_password() -> str:
    """Generated once per var/ directory and kept 0600 beside the data."""
    path = settings.VAR_DIR / "demo_credentials.json"
    if path.exists():
        return str(json.loads(path.read_text(encoding="utf-8"))["password"])
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"email": DEMO_EMAIL, "password": password}, handle)
    return password


def provision_demo(*, public_url: str) -> DemoCredentials:
    """Idempotent: the demo user, organisation `demo`, workspace `default` and their keys."""
    password = _demo_password()
    tenant = bootstrap(
        org=DEMO_ORG, workspace=DEMO_WORKSPACE, email=DEMO_EMAIL, password=password, public_url=public_url
    )
    return DemoCredentials(email=DEMO_EMAIL, password=password, tenant=tenant)
