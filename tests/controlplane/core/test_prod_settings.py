"""Production start-up: a missing variable fails with one line naming it; a full env is clean."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.processes import REPO_ROOT

REALISTIC_PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "controlplane.settings.prod",
    "TETHER_SECRET_KEY": "k" * 20 + "-realistic-production-secret-key-value-0123456789",
    "DATABASE_URL": "postgres://tether:pw@127.0.0.1:5432/tether",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "TETHER_ALLOWED_HOSTS": "tether.example.com",
    "TETHER_PUBLIC_URL": "https://tether.example.com",
    "TETHER_MASTER_KEYS": "prod-2:" + "A" * 43 + ",prod-1:" + "B" * 43,
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TETHER_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "missing", ["TETHER_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "TETHER_ALLOWED_HOSTS", "TETHER_MASTER_KEYS"]
)
def test_missing_required_variable_fails_with_one_line(missing: str) -> None:
    env = {k: v for k, v in REALISTIC_PROD_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert lines[0].startswith("tether: configuration error:")


def test_short_secret_key_is_refused() -> None:
    result = _manage("check", env={**REALISTIC_PROD_ENV, "TETHER_SECRET_KEY": "short"})
    assert result.returncode == 2
    assert "at least 32 characters" in result.stderr


def test_database_url_must_be_postgres() -> None:
    result = _manage("check", env={**REALISTIC_PROD_ENV, "DATABASE_URL": "sqlite:///tmp/x.db"})
    assert result.returncode == 2
    assert "DATABASE_URL must be a postgres" in result.stderr


def test_check_deploy_is_clean_with_realistic_env() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=REALISTIC_PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_prod_uses_a_connection_pool_and_no_persistent_connections() -> None:
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['CONN_MAX_AGE'], sorted(d['OPTIONS']['pool']))"
    )
    result = _manage("shell", "-c", code, env=REALISTIC_PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 ['max_size', 'min_size', 'timeout']"
