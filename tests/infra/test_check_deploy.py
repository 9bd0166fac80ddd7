"""`manage.py check --deploy` under the production settings, with a realistic environment, is clean (acceptance 4)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.support.processes import REPO_ROOT


def _realistic_env(tmp_path: Path) -> dict[str, str]:
    keys = tmp_path / "master_keys"
    keys.write_text("k2026:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=") + "\n")
    secret_key = tmp_path / "secret_key"
    secret_key.write_text(secrets.token_urlsafe(50))
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.prod",
        # As docker-compose.yml gives them: secrets from files.
        "TETHER_SECRET_KEY_FILE": str(secret_key),
        "TETHER_MASTER_KEYS_FILE": str(keys),
        "DATABASE_URL": "postgres://tether:not-checked@postgres:5432/tether",
        "REDIS_URL": "redis://:not-checked@redis:6379/0",
        "TETHER_ALLOWED_HOSTS": "tether.example.com",
        "TETHER_PUBLIC_URL": "https://tether.example.com",
        "TETHER_VAR_DIR": str(tmp_path / "var"),
    }


def test_check_deploy_prints_no_warning(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=_realistic_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output
    assert "?: (security." not in output


def test_production_refuses_to_start_without_a_master_key(tmp_path: Path) -> None:
    env = _realistic_env(tmp_path)
    del env["TETHER_MASTER_KEYS_FILE"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode != 0
    assert "TETHER_MASTER_KEYS" in result.stderr
