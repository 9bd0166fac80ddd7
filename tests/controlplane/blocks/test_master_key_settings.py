"""RELIABILITY 22: where master keys come from in each mode (prod refusal is in core/test_prod_settings.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from controlplane.blocks.keyring import parse_master_keys
from controlplane.settings.env import EnvError, env_master_keys
from controlplane.settings.local_secret import read_or_create_master_keys
from tests.support.processes import REPO_ROOT


def test_embedded_generates_a_0600_key_file_once_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "var" / "master_keys"
    first = read_or_create_master_keys(path)
    announced = capsys.readouterr().err
    assert "generated a block master key" in announced
    assert str(path) in announced
    assert first.split(":", 1)[1] not in announced
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parse_master_keys(first).current.key_id == "embedded-1"
    assert read_or_create_master_keys(path) == first
    assert capsys.readouterr().err == ""  # said once


def test_embedded_settings_load_a_key_from_var_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TETHER_", "DJANGO_SETTINGS"))}
    env.update({"DJANGO_SETTINGS_MODULE": "controlplane.settings.embedded", "TETHER_VAR_DIR": str(tmp_path)})
    code = "from django.conf import settings; print(settings.TETHER_MASTER_KEYS.split(':')[0])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "embedded-1"
    assert (tmp_path / "master_keys").exists()


def test_keys_file_variable_and_malformed_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys"
    keys.write_text("k1:" + "A" * 43 + "\n")
    monkeypatch.delenv("TETHER_MASTER_KEYS", raising=False)
    monkeypatch.setenv("TETHER_MASTER_KEYS_FILE", str(keys))
    assert env_master_keys().startswith("k1:")
    monkeypatch.delenv("TETHER_MASTER_KEYS_FILE")
    monkeypatch.setenv("TETHER_MASTER_KEYS", "k1:" + "A" * 40)
    with pytest.raises(EnvError) as raised:
        env_master_keys()
    assert str(raised.value).startswith("TETHER_MASTER_KEYS: key 1 ('k1')")
    assert "A" * 40 not in str(raised.value)
