"""The docker infrastructure against a fake Docker Engine API: the real docker SDK code path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_docker import FakeDocker, fake_docker
from tests.support.fake_runtime import Behaviour, oom_argv
from tether.agent.infrastructure import Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.docker import DockerInfrastructure, container_spec

RUN_ID = "0b7f5a5e-3c1d-4c59-9c55-1f7f4f0e2a10"
TOKEN = "tether_run_canary-token-for-this-run"


def _spec(tmp_path: Path, **job_variables: object) -> RunSpec:
    return RunSpec(
        flow_run_id=RUN_ID,
        name="gentle-otter",
        env={"TETHER_API_URL": "https://tether.example/api/v1/orgs/a/workspaces/b", "TETHER_API_KEY": TOKEN},
        job_variables={"image": "registry.example/flows:1.2", **job_variables},
        working_dir=tmp_path,
    )


def _script(code: str) -> Behaviour:
    return Behaviour(argv=[sys.executable, "-c", code])


@pytest.fixture
def docker_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDocker]:
    with fake_docker() as fake:
        monkeypatch.setenv("DOCKER_HOST", fake.base_url)
        monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
        yield fake


def test_the_container_spec_comes_from_the_job_variables(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        env={"LEVEL": "debug", "RETRIES": 3},
        volumes=["/data/in:/in:ro", "/data/out:/out"],
        network="flows-net",
        labels={"team": "data"},
        mem_limit="512m",
    )
    assert container_spec(spec, ca_bundle=None) == {
        "image": "registry.example/flows:1.2",
        "command": ["python", "-m", "tether.engine", RUN_ID],
        "name": f"tether-gentle-otter-{RUN_ID[:8]}",
        "environment": {
            "LEVEL": "debug",
            "RETRIES": "3",
            "TETHER_API_URL": "https://tether.example/api/v1/orgs/a/workspaces/b",
            "TETHER_API_KEY": TOKEN,
        },
        "labels": {"team": "data", "io.tether.flow-run-id": RUN_ID},
        "volumes": {
            "/data/in": {"bind": "/in", "mode": "ro"},
            "/data/out": {"bind": "/out", "mode": "rw"},
            str(tmp_path): {"bind": "/opt/tether/flow", "mode": "ro"},
        },
        "working_dir": "/opt/tether/flow",
        "network": "flows-net",
        "mem_limit": "512m",
        "detach": True,
        "stdin_open": False,
        "tty": False,
    }


def test_the_run_cannot_override_its_token_and_the_image_is_required(tmp_path: Path) -> None:
    spec = _spec(tmp_path, env={"TETHER_API_KEY": "tether_sa_the-agents-key"})
    assert container_spec(spec)["environment"]["TETHER_API_KEY"] == TOKEN
    with pytest.raises(InfrastructureError, match="image"):
        container_spec(RunSpec(flow_run_id=RUN_ID, name="x", env={}, job_variables={}))
    with pytest.raises(InfrastructureError, match="Volume"):
        container_spec(_spec(tmp_path, volumes=["no-target"]))


def test_a_custom_ca_bundle_is_mounted_into_the_container(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    spec = container_spec(_spec(tmp_path, mount_source=False), ca_bundle=str(bundle))
    assert spec["volumes"] == {str(bundle): {"bind": "/etc/tether/ca-bundle.pem", "mode": "ro"}}
    assert spec["environment"]["TETHER_CA_BUNDLE"] == "/etc/tether/ca-bundle.pem"
    assert "working_dir" not in spec


def test_a_run_streams_its_output_and_reports_its_exit_code(
    docker_engine: FakeDocker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TETHER_AGENT_ONLY_CANARY", "must-not-leak")
    (tmp_path / "marker.txt").write_text("code prepared by the agent")
    docker_engine.behaviours["registry.example/flows:1.2"] = _script(
        "import os, sys; print(open('marker.txt').read()); print('token', os.environ['TETHER_API_KEY'][-5:]);"
        "print('leak', os.environ.get('TETHER_AGENT_ONLY_CANARY')); sys.exit(7)"
    )
    handle = DockerInfrastructure().start(_spec(tmp_path))
    assert list(handle.logs()) == ["code prepared by the agent", "token s-run", "leak None"]
    assert handle.wait() == Exit(7)

    [created] = docker_engine.created
    assert created["Image"] == "registry.example/flows:1.2"
    assert created["Cmd"] == ["python", "-m", "tether.engine", RUN_ID]
    assert f"TETHER_API_KEY={TOKEN}" in created["Env"]
    assert not any(item.startswith("TETHER_AGENT_ONLY_CANARY") for item in created["Env"])
    assert created["HostConfig"]["Binds"] == [f"{tmp_path}:/opt/tether/flow:ro"]
    assert created["WorkingDir"] == "/opt/tether/flow"
    assert docker_engine.pulled == ["registry.example/flows:1.2"]  # absent: pulled once
    assert all(container.removed for container in docker_engine.containers.values())  # auto_remove


@pytest.mark.parametrize(
    ("policy", "present", "pulled"),
    [("if_not_present", True, []), ("always", True, ["registry.example/flows:1.2"]), ("never", True, [])],
)
def test_the_pull_policy_decides_whether_to_pull(
    docker_engine: FakeDocker, tmp_path: Path, policy: str, present: bool, pulled: list[str]
) -> None:
    if present:
        docker_engine.images.add("registry.example/flows:1.2")
    docker_engine.behaviours["registry.example/flows:1.2"] = _script("pass")
    handle = DockerInfrastructure().start(_spec(tmp_path, image_pull_policy=policy))
    assert handle.wait() == Exit(0)
    assert docker_engine.pulled == pulled


def test_an_image_that_cannot_be_had_is_an_infrastructure_error(docker_engine: FakeDocker, tmp_path: Path) -> None:
    with pytest.raises(InfrastructureError, match="No such image"):
        DockerInfrastructure().start(_spec(tmp_path, image_pull_policy="never"))
    docker_engine.behaviours["registry.example/private:9"] = Behaviour(pull_error=True)
    with pytest.raises(InfrastructureError, match="pull access denied"):
        DockerInfrastructure().start(_spec(tmp_path, image="registry.example/private:9"))
    assert docker_engine.created == []


def test_an_out_of_memory_kill_is_reported_as_such(docker_engine: FakeDocker, tmp_path: Path) -> None:
    docker_engine.behaviours["registry.example/flows:1.2"] = Behaviour(argv=oom_argv(), oom=True)
    handle = DockerInfrastructure().start(_spec(tmp_path))
    assert list(handle.logs()) == ["allocating"]
    ended = handle.wait()
    assert ended == Exit(137, "OOMKilled")
    assert ended.describe() == "exited with code 137 (OOMKilled)"


def test_terminate_sends_sigterm_and_kill_sigkill(docker_engine: FakeDocker, tmp_path: Path) -> None:
    graceful = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: (print('terminating', flush=True), sys.exit(143)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    docker_engine.behaviours["registry.example/flows:1.2"] = _script(graceful)
    handle = DockerInfrastructure().start(_spec(tmp_path))
    lines = handle.logs()
    assert next(lines) == "ready"
    assert handle.terminate() is True
    assert list(lines) == ["terminating"]
    assert handle.wait() == Exit(143)
    assert handle.terminate() is False  # already ended: the agent does not escalate

    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    docker_engine.behaviours["registry.example/flows:2"] = _script(stubborn)
    handle = DockerInfrastructure().start(_spec(tmp_path, image="registry.example/flows:2"))
    assert next(handle.logs()) == "ready"
    handle.kill()
    assert handle.wait() == Exit(137)
