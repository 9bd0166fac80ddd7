"""`manage.py bootstrap --json`: idempotent, and its keys work against the API."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from controlplane.apikeys.models import ApiKey
from controlplane.orgs.models import Organization, ServiceAccount, Workspace
from tests.support.clients import bearer

ARGS = ["--org", "acme", "--workspace", "prod", "--email", "ops@acme.test", "--password", "a-long-secret-pw-42"]


def _bootstrap(*extra: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("bootstrap", *ARGS, "--json", *extra, stdout=out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


@pytest.fixture
def var_dir(tmp_path: Path, settings: Any) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db(transaction=True)
def test_bootstrap_is_idempotent_and_its_keys_work(var_dir: Path) -> None:
    first = _bootstrap("--public-url", "https://tether.example")
    assert set(first) == {"api_url", "org", "workspace", "user", "api_key", "agent_key"}
    assert first["api_url"] == "https://tether.example/api/v1/orgs/acme/workspaces/prod"
    assert first["api_key"].startswith("tether_sa_")
    assert first["agent_key"].startswith("tether_sa_")

    second = _bootstrap("--public-url", "https://tether.example")
    assert second == first
    assert Organization.objects.count() == 1
    assert Workspace.objects.count() == 1
    assert ServiceAccount.dangerously_unscoped.count() == 2
    assert ApiKey.dangerously_unscoped.count() == 2

    access = "/api/v1/orgs/acme/workspaces/prod/access/"
    developer = bearer(first["api_key"]).get(access).json()
    worker = bearer(first["agent_key"]).get(access).json()
    assert developer["role"] == "developer"
    assert worker["role"] == "worker"
    (cache,) = (var_dir / "bootstrap").glob("acme.prod.*.json")
    assert cache.stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db(transaction=True)
def test_bootstrap_issues_new_keys_when_the_cached_ones_are_revoked(var_dir: Path) -> None:
    first = _bootstrap()
    ApiKey.dangerously_unscoped.update(revoked_at="2026-01-01T00:00:00Z")
    second = _bootstrap()
    assert second["api_key"] != first["api_key"]
    assert bearer(second["api_key"]).get("/api/v1/orgs/acme/workspaces/prod/access/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_bootstrap_user_can_sign_in_with_the_password(var_dir: Path, client: Any) -> None:
    _bootstrap()
    from django.contrib.auth import authenticate

    assert authenticate(email="ops@acme.test", password="a-long-secret-pw-42") is not None
