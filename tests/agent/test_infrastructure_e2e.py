"""A real agent process runs deployments of docker and kubernetes pools on a real control plane,
through the fake Docker Engine and the fake Kubernetes API (their "containers" run the real engine)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import ControlPlane
from tests.support.fake_docker import fake_docker
from tests.support.fake_k8s import fake_kubernetes
from tests.support.fake_runtime import Behaviour, oom_argv

pytestmark = pytest.mark.e2e

FLOWS = """
import os

from tether import flow


@flow(log_prints=True)
def greet(name: str) -> str:
    print(f"hello {name} from {os.environ.get('WHERE', 'nowhere')}")
    return name
"""
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


@contextlib.contextmanager
def agent(plane: ControlPlane, pool: str, tmp_path: Path, **env: str) -> Iterator[Path]:
    log = tmp_path / f"agent-{pool}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    full_env.update({"TETHER_API_URL": plane.api_url, "TETHER_API_KEY": plane.agent_key, **env})
    command = [sys.executable, "-m", "tether", "agent", "start", "--pool", pool, "--work-dir", str(tmp_path / "work")]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def deployment(plane: ControlPlane, pool_type: str, flows: Path, **job_variables: Any) -> tuple[str, str]:
    pool = f"{pool_type}-{uuid.uuid4().hex[:6]}"
    created = plane.http.post("work-pools/", json={"name": pool, "type": pool_type})
    assert created.status_code == 201, created.text
    body = {
        "flow_name": "greet",
        "name": pool,
        "entrypoint": "flows.py:greet",
        "source": {"type": "path", "path": str(flows)},
        "work_pool_name": pool,
        "job_variables": job_variables,
    }
    response = plane.http.post("deployments/", json=body)
    assert response.status_code == 201, response.text
    return pool, str(response.json()["id"])


def run_to_the_end(plane: ControlPlane, deployment_id: str, log: Path, timeout: float = 90.0) -> dict[str, Any]:
    created = plane.http.post("flow-runs/", json={"deployment_id": deployment_id, "parameters": {"name": "otter"}})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = plane.get(f"flow-runs/{run_id}/")
        if run["state_type"] in FINAL:
            return run
        assert time.monotonic() < deadline, f"{run['state_type']} after {timeout}s; agent log:\n{log.read_text()}"
        time.sleep(0.2)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    (directory / "flows.py").write_text(FLOWS)
    return directory


def test_a_docker_pool_runs_the_deployment_in_a_container(
    control_plane: ControlPlane, flows: Path, tmp_path: Path
) -> None:
    with fake_docker() as engine:
        pool, deployment_id = deployment(
            control_plane,
            "docker",
            flows,
            image="registry.example/flows:1.0",
            env={"WHERE": "a container", "TETHER_RESULTS_DIR": str(tmp_path / "results")},
        )
        with agent(control_plane, pool, tmp_path, DOCKER_HOST=engine.base_url) as log:
            run = run_to_the_end(control_plane, deployment_id, log)
            assert run["state_type"] == "COMPLETED", log.read_text()
            logs = control_plane.logs(run["id"])
            assert any("hello otter from a container" in line["message"] for line in logs)
            status = subprocess.run(
                [sys.executable, "-m", "tether", "agent", "status", "--json", "--work-dir", str(tmp_path / "work")],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert status.returncode == 0, status.stdout + status.stderr
            figures = json.loads(status.stdout)
            assert (figures["pool"], figures["fresh"]) == (pool, True)
            assert figures["agent_id"]
            assert control_plane.agent_key not in status.stdout
        [created] = engine.created
        env = dict(item.split("=", 1) for item in created["Env"])
        assert env["TETHER_API_KEY"].startswith("tether_run_")  # the run's token, not the agent's key
        assert control_plane.agent_key not in created["Env"]
        assert created["HostConfig"]["Binds"] == [f"{flows}:/opt/tether/flow:ro"]
        assert created["Cmd"] == ["python", "-m", "tether.engine", run["id"]]


def test_a_docker_container_killed_for_memory_is_crashed(
    control_plane: ControlPlane, flows: Path, tmp_path: Path
) -> None:
    with fake_docker() as engine:
        engine.behaviours["registry.example/hungry:1"] = Behaviour(argv=oom_argv(), oom=True)
        pool, deployment_id = deployment(control_plane, "docker", flows, image="registry.example/hungry:1")
        with agent(control_plane, pool, tmp_path, DOCKER_HOST=engine.base_url) as log:
            run = run_to_the_end(control_plane, deployment_id, log)
        assert run["state_type"] == "CRASHED"
        assert "exited with code 137 (OOMKilled)" in run["state"]["message"]


def test_a_kubernetes_pool_runs_the_deployment_as_a_job(
    control_plane: ControlPlane, flows: Path, tmp_path: Path
) -> None:
    with fake_kubernetes() as cluster:
        pool, deployment_id = deployment(
            control_plane,
            "kubernetes",
            flows,
            image="registry.example/flows:1.0",
            namespace="flows",
            env={"WHERE": "a pod", "TETHER_RESULTS_DIR": str(tmp_path / "results")},
        )
        kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")
        with agent(control_plane, pool, tmp_path, KUBECONFIG=str(kubeconfig)) as log:
            run = run_to_the_end(control_plane, deployment_id, log)
            assert run["state_type"] == "COMPLETED", log.read_text()
            assert any("hello otter from a pod" in line["message"] for line in control_plane.logs(run["id"]))
        [(namespace, name)] = cluster.jobs.keys() or [("", "")]
        assert namespace == "flows"
        assert name.endswith(run["id"][:8])
        assert cluster.secrets == {}


def test_a_kubernetes_image_that_cannot_be_pulled_is_crashed(
    control_plane: ControlPlane, flows: Path, tmp_path: Path
) -> None:
    with fake_kubernetes() as cluster:
        cluster.behaviours["registry.example/typo:1"] = Behaviour(pull_error=True)
        pool, deployment_id = deployment(control_plane, "kubernetes", flows, image="registry.example/typo:1")
        with agent(control_plane, pool, tmp_path, KUBECONFIG=str(cluster.kubeconfig(tmp_path / "kc"))) as log:
            run = run_to_the_end(control_plane, deployment_id, log)
        assert run["state_type"] == "CRASHED"
        assert "ErrImagePull" in run["state"]["message"]
