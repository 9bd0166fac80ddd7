"""`tether login` profiles, `tether flow-run ls|logs|cancel` and `tether deploy --file tether.yaml`,
against the real control plane, with TETHER_API_URL/TETHER_API_KEY removed from the environment."""

from __future__ import annotations

import json
import stat
import textwrap
from pathlib import Path

import pytest

from tests.agent.conftest import ControlPlane
from tether import flow, get_run_logger
from tether._api import Client
from tether.cli import main

pytestmark = pytest.mark.e2e

LOG_LINES = 1_050  # more than one page of logs (the CLI asks for 1,000 a page)

FLOW_CODE = """
from tether import flow

@flow(name="yaml-extract", description="Pull the day's rows.")
def extract(day: str, limit: int = 10) -> int:
    return limit

@flow(name="yaml-report")
def report(title: str = "daily") -> str:
    return title
"""

TETHER_YAML = """
deployments:
  - entrypoint: flows/etl.py:extract
    name: nightly
    work_pool: {pool}
    parameters: {{limit: 25}}
    tags: [etl, nightly]
    source: git+https://github.com/acme/flows.git@main
  - entrypoint: flows/etl.py:report
    name: weekly
    work_pool: {pool}
    tags: [report]
"""


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No server in the environment: only what `tether login` stores in this TETHER_HOME."""
    monkeypatch.delenv("TETHER_API_URL", raising=False)
    monkeypatch.delenv("TETHER_API_KEY", raising=False)
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "home" / ".tether"))
    monkeypatch.setenv("TETHER_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "home" / ".tether"


@pytest.fixture
def logged_in(control_plane: ControlPlane, home: Path, capsys: pytest.CaptureFixture[str]) -> ControlPlane:
    assert main(["login", "--url", control_plane.api_url, "--key", control_plane.api_key]) == 0
    capsys.readouterr()
    return control_plane


@pytest.fixture
def pool(control_plane: ControlPlane) -> str:
    response = control_plane.http.post("work-pools/", json={"name": "profiles-pool", "type": "process"})
    assert response.status_code in (201, 400, 409), response.text
    return "profiles-pool"


def test_login_stores_an_owner_only_profile_that_later_commands_use(
    control_plane: ControlPlane, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["login", "--url", control_plane.api_url + "/", "--key", control_plane.api_key]) == 0
    assert "Logged in to workspace" in capsys.readouterr().out
    path = home / "profiles.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert stored["active"] == "default"
    assert stored["profiles"]["default"] == {"api_url": control_plane.api_url, "api_key": control_plane.api_key}

    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert f"{control_plane.api_url} (from the active profile)" in out
    assert control_plane.api_key not in out
    assert main(["flow-run", "ls", "--limit", "1"]) == 0  # an authenticated call, with no env vars
    assert capsys.readouterr().out.startswith("ID")


def test_login_with_a_refused_key_saves_nothing(
    control_plane: ControlPlane, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["login", "--url", control_plane.api_url, "--key", "tether_sa_notarealkey"]) == 1
    assert "the key is refused" in capsys.readouterr().err
    assert not (home / "profiles.json").exists()


def test_a_second_profile_becomes_active_and_the_environment_wins(
    logged_in: ControlPlane, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["login", "--url", logged_in.api_url, "--key", logged_in.api_key, "--profile", "ops"]) == 0
    stored = json.loads((home / "profiles.json").read_text())
    assert stored["active"] == "ops"
    assert set(stored["profiles"]) == {"default", "ops"}
    client = Client.from_env()
    assert client is not None
    assert client.api_url == logged_in.api_url + "/"
    client.close()

    monkeypatch.setenv("TETHER_API_URL", "https://elsewhere.example/api/v1/orgs/o/workspaces/w")
    client = Client.from_env()
    assert client is not None
    assert client.api_url == "https://elsewhere.example/api/v1/orgs/o/workspaces/w/"
    client.close()


def test_flow_run_ls_and_logs_read_every_page(logged_in: ControlPlane, capsys: pytest.CaptureFixture[str]) -> None:
    @flow(name="profiles-chatty")
    def chatty() -> None:
        logger = get_run_logger()
        for number in range(LOG_LINES):
            logger.info("line %04d", number)

    chatty()  # tracked through the profile: no TETHER_API_URL is set
    run = logged_in.latest_run("profiles-chatty")
    assert run["state_type"] == "COMPLETED"
    capsys.readouterr()

    assert main(["flow-run", "ls", "--state", "completed", "--limit", "5"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ID", "NAME", "STATE", "DEPLOYMENT", "CREATED"]
    assert 2 <= len(table) <= 6
    assert all("COMPLETED" in row or "Completed" in row for row in table[1:])
    assert any(row.startswith(run["id"]) and f"profiles-chatty/{run['name']}" in row for row in table[1:])

    assert main(["flow-run", "logs", run["id"]]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "| line " in line]
    assert [line.rsplit(" ", 1)[1] for line in lines] == [f"{number:04d}" for number in range(LOG_LINES)]

    assert main(["flow-run", "cancel", run["id"]]) == 1  # a finished run cannot be cancelled: the server says why
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "tether flow-run cancel:" in captured.err
    assert "The run is COMPLETED, a final state; it cannot become CANCELLED." in captured.err
    assert logged_in.get(f"flow-runs/{run['id']}/")["state_type"] == "COMPLETED"


def test_deploy_file_creates_two_deployments_then_run_and_cancel(
    logged_in: ControlPlane,
    pool: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "project"
    (project / "flows").mkdir(parents=True)
    (project / "flows" / "etl.py").write_text(textwrap.dedent(FLOW_CODE))
    (project / "tether.yaml").write_text(TETHER_YAML.format(pool=pool))
    monkeypatch.chdir(project)

    assert main(["deploy"]) == 0  # ./tether.yaml, found without --file
    out = capsys.readouterr().out
    assert "Created deployment yaml-extract/nightly" in out
    assert "Created deployment yaml-report/weekly" in out
    assert "2 of 2 deployment(s)" in out
    (nightly,) = logged_in.get("deployments/", flow_name="yaml-extract", name="nightly")["results"]
    assert nightly["entrypoint"] == "flows/etl.py:extract"
    assert nightly["work_pool_name"] == pool
    assert nightly["parameters"] == {"limit": 25}
    assert sorted(nightly["tags"]) == ["etl", "nightly"]
    assert nightly["source"] == {"type": "git", "url": "https://github.com/acme/flows.git", "ref": "main"}
    assert nightly["parameter_schema"]["required"] == ["day"]
    (weekly,) = logged_in.get("deployments/", flow_name="yaml-report", name="weekly")["results"]
    assert weekly["entrypoint"] == "flows/etl.py:report"
    assert weekly["tags"] == ["report"]

    assert main(["deploy", "--file", str(project / "tether.yaml")]) == 0  # an upsert: again, both updated
    assert capsys.readouterr().out.count("Updated deployment") == 2

    assert main(["run", "yaml-report/weekly"]) == 0
    capsys.readouterr()
    run = logged_in.latest_run("yaml-report")
    assert run["state_type"] == "SCHEDULED"
    assert main(["flow-run", "cancel", run["id"]]) == 0
    assert f"Flow run {run['id']}: Cancelled (CANCELLED)." in capsys.readouterr().out
    assert logged_in.get(f"flow-runs/{run['id']}/")["state_type"] == "CANCELLED"

    assert main(["flow-run", "ls", "--state", "CANCELLED", "--limit", "200"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(run["id"]))
    assert "yaml-report/" in row
    assert "weekly" in row
    assert "CANCELLED" in row.upper()


def test_a_bad_tether_yaml_deploys_nothing(
    logged_in: ControlPlane, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "tether.yaml"
    bad.write_text("deployments:\n  - entrypoint: flows/etl.py:extract\n    name: x\n    schedule: '* * * * *'\n")
    assert main(["deploy", "--file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "unknown key(s) schedule" in err
    assert "deployment #1" in err
