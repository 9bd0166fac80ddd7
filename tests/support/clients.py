from __future__ import annotations

from rest_framework.test import APIClient

from controlplane.accounts.models import User


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def session(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client
