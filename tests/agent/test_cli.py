"""The `tether` distribution installs a CLI and imports without the control plane."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tether.cli import main


def test_console_script_is_installed() -> None:
    executable = shutil.which("tether") or str(__import__("pathlib").Path(sys.executable).parent / "tether")
    result = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.strip().startswith("tether 0.")


def test_config_reports_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TETHER_API_URL", "https://tether.example/api/v1/orgs/acme/workspaces/prod")
    monkeypatch.setenv("TETHER_API_KEY", "tether_sa_secretvalue")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "https://tether.example/api/v1/orgs/acme/workspaces/prod" in out
    assert "tether_sa_secretvalue" not in out  # secrets never print
    assert "TETHER_API_KEY:   set" in out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: tether" in capsys.readouterr().err


def test_import_does_not_pull_in_the_control_plane() -> None:
    code = "import sys, tether; print([m for m in sys.modules if m.split('.')[0] in ('django', 'controlplane')])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
