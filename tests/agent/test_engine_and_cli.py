"""`tether deploy`, `tether run` and the engine the agent starts (`python -m tether.engine <id>`),
against the real control plane."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import ControlPlane
from tether._api import Client
from tether.cli import main, parse_source, watch

pytestmark = pytest.mark.e2e

FLOW_CODE = """
import datetime as dt
import os
import signal
import time
from tether import flow, task, get_run_logger

@task
def describe(day: dt.date, times: int) -> str:
    return f"{day.isoformat()} x{times}"

@flow(name="engine-demo")
def demo(day: dt.date, times: int = 1, fail: bool = False, cancel: bool = False) -> str:
    if cancel:
        os.kill(os.getpid(), signal.SIGTERM)  # what the agent sends to cancel a run
        time.sleep(10)
    text = describe(day, times)
    get_run_logger().info("described %s", text)
    if fail:
        raise RuntimeError("asked to fail")
    return text
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "demo.py").write_text(textwrap.dedent(FLOW_CODE))
    return tmp_path


@pytest.fixture
def pool(tracked: ControlPlane) -> str:
    response = tracked.http.post("work-pools/", json={"name": "sdk-pool", "type": "process"})
    assert response.status_code in (201, 400, 409), response.text
    return "sdk-pool"


def deploy(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pool: str) -> str:
    monkeypatch.chdir(project)
    code = main(
        [
            "deploy",
            "flows/demo.py:demo",
            "--name",
            "nightly",
            "--pool",
            pool,
            "--source",
            "git+https://github.com/acme/flows.git@main",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def engine(project: Path, plane: ControlPlane, run_id: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "TETHER_API_URL": plane.api_url,
        "TETHER_API_KEY": plane.api_key,
        "TETHER_RESULTS_DIR": str(project / "results"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "tether.engine", run_id],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_uploads_schema_and_source_never_code(
    tracked: ControlPlane, project: Path, pool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = deploy(project, monkeypatch, capsys, pool)
    assert "engine-demo/nightly" in out
    (deployment,) = tracked.get("deployments/", flow_name="engine-demo", name="nightly")["results"]
    assert deployment["entrypoint"] == "flows/demo.py:demo"
    assert deployment["work_pool_name"] == pool
    assert deployment["source"] == {"type": "git", "url": "https://github.com/acme/flows.git", "ref": "main"}
    schema = deployment["parameter_schema"]
    assert schema["required"] == ["day"]
    assert schema["properties"]["day"]["format"] == "date"
    assert "RuntimeError" not in str(deployment)  # metadata only: no code went up
    assert "Updated" in deploy(project, monkeypatch, capsys, pool)  # an upsert: deploying again updates


def test_engine_runs_a_deployment_run_to_completion(
    tracked: ControlPlane, project: Path, pool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(project, monkeypatch, capsys, pool)
    assert main(["run", "engine-demo/nightly", "--param", "day=2026-03-04", "--param", "times=3"]) == 0
    run = tracked.latest_run("engine-demo")
    assert run["state_type"] == "SCHEDULED"
    assert run["parameters"] == {"day": "2026-03-04", "times": 3}

    result = engine(project, tracked, run["id"], TETHER_FLOW_RUN_EPOCH=str(run["epoch"]))
    assert result.returncode == 0, result.stderr
    finished = tracked.get(f"flow-runs/{run['id']}/")
    assert finished["state_type"] == "COMPLETED"
    assert tracked.states(run["id"]) == ["Scheduled", "Running", "Completed"]
    (task_run,) = tracked.task_runs(run["id"])
    assert task_run["state_type"] == "COMPLETED"
    assert any(line["message"] == "described 2026-03-04 x3" for line in tracked.logs(run["id"]))

    with Client(tracked.api_url, tracked.api_key) as client:
        assert watch(client, run["id"], interval=0.1) == 0
    printed = capsys.readouterr().out
    assert "State: Completed (COMPLETED)" in printed
    assert "described 2026-03-04 x3" in printed


def test_engine_reports_a_failing_flow_and_exits_non_zero(
    tracked: ControlPlane, project: Path, pool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(project, monkeypatch, capsys, pool)
    main(["run", "engine-demo/nightly", "--param", "day=2026-03-04", "--param", "fail=true"])
    run = tracked.latest_run("engine-demo")
    result = engine(project, tracked, run["id"])
    assert result.returncode == 1
    finished = tracked.get(f"flow-runs/{run['id']}/")
    assert finished["state_type"] == "FAILED"
    assert "asked to fail" in finished["state"]["message"]


def test_sigterm_cancels_the_run(
    tracked: ControlPlane, project: Path, pool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(project, monkeypatch, capsys, pool)
    main(["run", "engine-demo/nightly", "--param", "day=2026-03-04", "--param", "cancel=true"])
    run = tracked.latest_run("engine-demo")
    result = engine(project, tracked, run["id"])
    assert result.returncode == 143, result.stderr
    assert tracked.get(f"flow-runs/{run['id']}/")["state_type"] == "CANCELLED"


def test_engine_stops_on_a_stale_epoch(
    tracked: ControlPlane, project: Path, pool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(project, monkeypatch, capsys, pool)
    main(["run", "engine-demo/nightly", "--param", "day=2026-03-04"])
    run = tracked.latest_run("engine-demo")
    result = engine(project, tracked, run["id"], TETHER_FLOW_RUN_EPOCH=str(run["epoch"] + 7))
    assert result.returncode == 3, result.stderr
    assert tracked.get(f"flow-runs/{run['id']}/")["state_type"] == "SCHEDULED"  # nothing ran


def test_engine_fails_the_run_when_the_entrypoint_is_missing(
    tracked: ControlPlane, project: Path, pool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(project, monkeypatch, capsys, pool)
    main(["run", "engine-demo/nightly", "--param", "day=2026-03-04"])
    run = tracked.latest_run("engine-demo")
    (project / "flows" / "demo.py").unlink()
    result = engine(project, tracked, run["id"])
    assert result.returncode == 1
    finished = tracked.get(f"flow-runs/{run['id']}/")
    assert finished["state_type"] == "FAILED"
    assert "not found" in finished["state"]["message"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "git+https://github.com/acme/flows.git@v1.2",
            {"type": "git", "url": "https://github.com/acme/flows.git", "ref": "v1.2"},
        ),
        ("git+https://github.com/acme/flows.git", {"type": "git", "url": "https://github.com/acme/flows.git"}),
        ("s3://bucket/flows.zip", {"type": "url", "url": "s3://bucket/flows.zip"}),
        ("/srv/flows", {"type": "path", "path": "/srv/flows"}),
    ],
)
def test_source_references(value: str, expected: dict[str, Any]) -> None:
    assert parse_source(value) == expected
