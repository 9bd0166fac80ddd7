"""`tether agent start|check` configuration: checked at start, one clear line per mistake, no secret printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tether.agent.config import AgentConfig
from tether.agent.errors import ConfigError, SourceError
from tether.agent.source import prepare_source, redact_url

URL = "https://tether.example/api/v1/orgs/acme/workspaces/prod"
KEY = "tether_sa_secretvalue0123"


def build(tmp_path: Path, **env: str) -> AgentConfig:
    environ = {"TETHER_API_URL": URL, "TETHER_API_KEY": KEY, **env}
    return AgentConfig.build(environ={k: v for k, v in environ.items() if v}, pool="main", work_dir=str(tmp_path))


def test_valid_configuration(tmp_path: Path) -> None:
    config = build(tmp_path)
    assert config.agent_channel_url("abc") == "wss://tether.example/ws/v1/orgs/acme/workspaces/prod/agents/abc"
    assert config.websocket_url("ws/v1/ping") == "wss://tether.example/ws/v1/ping"
    assert KEY not in repr(config)


def test_prefixed_deployment_keeps_its_prefix(tmp_path: Path) -> None:
    config = build(tmp_path, TETHER_API_URL="http://h:8000/tether/api/v1/orgs/a/workspaces/w/")
    assert config.agent_channel_url("x") == "ws://h:8000/tether/ws/v1/orgs/a/workspaces/w/agents/x"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TETHER_API_URL": ""}, "TETHER_API_URL is not set"),
        ({"TETHER_API_URL": "ftp://x/api/v1/orgs/a/workspaces/w"}, "must be an https:// URL"),
        ({"TETHER_API_URL": "https://x/api/v1/orgs/a"}, "workspace API URL"),
        ({"TETHER_API_KEY": ""}, "TETHER_API_KEY is not set"),
        ({"TETHER_API_KEY": "tether_run_abc"}, "run token"),
        ({"TETHER_API_KEY": "hunter2"}, "does not look like a Tether key"),
        ({"TETHER_CA_BUNDLE": "/nonexistent/ca.pem"}, "not a readable file"),
    ],
)
def test_configuration_mistakes_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(tmp_path, **env)


def test_a_file_that_is_not_a_ca_bundle_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(ConfigError, match="no usable PEM certificate"):
        build(tmp_path, TETHER_CA_BUNDLE=str(bogus))


def test_cli_prints_one_line_and_fails(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tether", "agent", "start", "--pool", "main", "--work-dir", str(tmp_path)],
        env={"PATH": "/usr/bin:/bin", "TETHER_API_URL": URL, "TETHER_API_KEY": "hunter2-secret"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("tether agent: TETHER_API_KEY does not look like a Tether key")
    assert "hunter2-secret" not in result.stderr


def test_agent_start_requires_a_pool(capsys: pytest.CaptureFixture[str]) -> None:
    from tether.cli import main

    with pytest.raises(SystemExit):
        main(["agent", "start"])
    assert "--pool" in capsys.readouterr().err


def test_path_source_and_unknown_source(tmp_path: Path) -> None:
    assert prepare_source({"type": "path", "path": str(tmp_path)}, tmp_path / "work") == tmp_path
    assert prepare_source(None, tmp_path) == tmp_path
    with pytest.raises(SourceError, match="not a directory"):
        prepare_source({"type": "path", "path": str(tmp_path / "missing")}, tmp_path)
    with pytest.raises(SourceError, match="not supported"):
        prepare_source({"type": "url", "url": "s3://bucket/x"}, tmp_path)


def test_git_source_checks_out_the_ref(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=origin, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (origin / "flows.py").write_text("VERSION = 1\n")
    git("add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "one")
    git("tag", "v1")
    (origin / "flows.py").write_text("VERSION = 2\n")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-am", "two")
    work = tmp_path / "work"
    main = prepare_source({"type": "git", "url": str(origin), "ref": "main"}, work)
    tagged = prepare_source({"type": "git", "url": str(origin), "ref": "v1"}, work)
    assert (main / "flows.py").read_text() == "VERSION = 2\n"
    assert (tagged / "flows.py").read_text() == "VERSION = 1\n"
    assert prepare_source({"type": "git", "url": str(origin), "ref": "main"}, work) == main  # cached
    with pytest.raises(SourceError, match="git fetch failed"):
        prepare_source({"type": "git", "url": str(origin), "ref": "no-such-ref"}, work)


def test_credentials_are_redacted_from_urls() -> None:
    assert redact_url("https://user:tok@git.example/r.git") == "https://***@git.example/r.git"
    assert redact_url("https://git.example/r.git") == "https://git.example/r.git"
