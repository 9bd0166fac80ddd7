"""A real control plane (ASGI server on PostgreSQL) for the SDK's tests, started once per session."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bench.harness import fresh_database, manage
from tests.support.processes import free_port, running, uvicorn_args

SDK_DATABASE_URL = os.environ.get("TETHER_SDK_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_sdk_tests")


@dataclass
class ControlPlane:
    api_url: str
    api_key: str
    agent_key: str
    http: httpx.Client = field(repr=False)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def flow_runs(self, flow_name: str) -> list[dict[str, Any]]:
        """Runs of a flow, newest first."""
        flows = self.get("flows/", name=flow_name)["results"]
        if not flows:
            return []
        return list(self.get("flow-runs/", flow_id=flows[0]["id"], page_size=200)["results"])

    def latest_run(self, flow_name: str) -> dict[str, Any]:
        runs = self.flow_runs(flow_name)
        assert runs, f"no run of {flow_name!r} on the server"
        return runs[0]

    def states(self, flow_run_id: str) -> list[str]:
        return [s["name"] for s in self.get(f"flow-runs/{flow_run_id}/states/")]

    def task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = []
        page: Any = self.get("task-runs/", flow_run_id=flow_run_id, page_size=200)
        runs.extend(page["results"])
        while page.get("next"):
            response = self.http.get(page["next"])
            response.raise_for_status()
            page = response.json()
            runs.extend(page["results"])
        return runs

    def task_states(self, task_run_id: str) -> list[str]:
        return [s["name"] for s in self.get(f"task-runs/{task_run_id}/states/")]

    def logs(self, flow_run_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"flow-runs/{flow_run_id}/logs/", page_size=1000)["results"])


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    # One database per xdist worker: each worker starts its own server on it.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    env = fresh_database(f"{SDK_DATABASE_URL}_{worker}" if worker else SDK_DATABASE_URL)
    keys = json.loads(
        manage(
            "bootstrap",
            "--org",
            "acme",
            "--workspace",
            "prod",
            "--email",
            "sdk@acme.test",
            "--password",
            "sdk-password-0123",
            "--json",
            env=env,
        )
    )
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(uvicorn_args(port), env=env, log_path=Path(tmp) / "server.log", port=port) as server,
    ):
        api_url = f"{server.url}/api/v1/orgs/acme/workspaces/prod"
        headers = {"Authorization": f"Bearer {keys['api_key']}"}
        with httpx.Client(base_url=api_url + "/", headers=headers, timeout=30) as http:
            yield ControlPlane(api_url=api_url, api_key=keys["api_key"], agent_key=keys["agent_key"], http=http)


@pytest.fixture
def tracked(control_plane: ControlPlane, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ControlPlane:
    """Flows called in this test are tracked by the real control plane; results go to a temp directory."""
    monkeypatch.setenv("TETHER_API_URL", control_plane.api_url)
    monkeypatch.setenv("TETHER_API_KEY", control_plane.api_key)
    monkeypatch.setenv("TETHER_RESULTS_DIR", str(tmp_path / "results"))
    return control_plane


@pytest.fixture
def untracked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("TETHER_API_URL", raising=False)
    monkeypatch.delenv("TETHER_API_KEY", raising=False)
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "home"))  # no login profile of this machine's user
    monkeypatch.setenv("TETHER_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path
