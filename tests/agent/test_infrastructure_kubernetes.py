"""The kubernetes infrastructure: exact Job manifests, and runs driven through a fake Kubernetes API."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_k8s import FakeKubernetes, fake_kubernetes
from tests.support.fake_runtime import Behaviour, oom_argv
from tether.agent.infrastructure import Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.kubernetes import KubernetesInfrastructure, job_manifest, token_secret

RUN_ID = "5d0c1e2f-8a9b-4c3d-9e8f-7a6b5c4d3e2f"
TOKEN = "tether_run_canary-token-for-this-run"
API_URL = "https://tether.example/api/v1/orgs/acme/workspaces/prod"


def _spec(**job_variables: Any) -> RunSpec:
    return RunSpec(
        flow_run_id=RUN_ID,
        name="Brave_Heron",
        env={"TETHER_API_URL": API_URL, "TETHER_API_KEY": TOKEN, "TETHER_FLOW_RUN_EPOCH": "2"},
        job_variables={"image": "registry.example/flows:1.2", **job_variables},
    )


LABELS = {"app.kubernetes.io/managed-by": "tether", "tether.io/flow-run-id": RUN_ID}
NAME = f"tether-brave-heron-{RUN_ID[:8]}"


def test_the_job_manifest_for_the_minimal_job_variables() -> None:
    assert job_manifest(_spec()) == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": NAME, "namespace": "default", "labels": LABELS},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 300,
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "flow",
                            "image": "registry.example/flows:1.2",
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["python", "-m", "tether.engine", RUN_ID],
                            "env": [
                                {"name": "TETHER_API_URL", "value": API_URL},
                                {"name": "TETHER_FLOW_RUN_EPOCH", "value": "2"},
                                {
                                    "name": "TETHER_API_KEY",
                                    "valueFrom": {"secretKeyRef": {"name": NAME, "key": "api-key"}},
                                },
                            ],
                        }
                    ],
                },
            },
        },
    }


def test_the_job_manifest_for_every_job_variable() -> None:
    spec = _spec(
        image="registry.example/flows:2.0",
        image_pull_policy="always",
        namespace="flows",
        service_account_name="flow-runner",
        env={"LEVEL": "debug", "TETHER_API_KEY": "tether_sa_not-this-one"},
        resources={"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"cpu": 2, "memory": "1Gi"}},
        node_selector={"pool": "batch", "kubernetes.io/arch": "amd64"},
        labels={"team": "data"},
        ttl_seconds_after_finished=60,
    )
    labels = {"team": "data", **LABELS}
    assert job_manifest(spec, working_dir="/app") == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": NAME, "namespace": "flows", "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 60,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": "flow-runner",
                    "nodeSelector": {"pool": "batch", "kubernetes.io/arch": "amd64"},
                    "containers": [
                        {
                            "name": "flow",
                            "image": "registry.example/flows:2.0",
                            "imagePullPolicy": "Always",
                            "command": ["python", "-m", "tether.engine", RUN_ID],
                            "workingDir": "/app",
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "256Mi"},
                                "limits": {"cpu": "2", "memory": "1Gi"},
                            },
                            "env": [
                                {"name": "LEVEL", "value": "debug"},
                                {"name": "TETHER_API_URL", "value": API_URL},
                                {"name": "TETHER_FLOW_RUN_EPOCH", "value": "2"},
                                # The run's token, from its Secret: never a literal, never the job's value.
                                {
                                    "name": "TETHER_API_KEY",
                                    "valueFrom": {"secretKeyRef": {"name": NAME, "key": "api-key"}},
                                },
                            ],
                        }
                    ],
                },
            },
        },
    }
    secret = token_secret(spec, job_manifest(spec))
    assert secret["metadata"] == {"name": NAME, "namespace": "flows", "labels": labels}
    assert secret["stringData"] == {"api-key": TOKEN}


def test_job_variables_the_job_cannot_use_are_refused() -> None:
    with pytest.raises(InfrastructureError, match="image"):
        job_manifest(RunSpec(flow_run_id=RUN_ID, name="x", env={"TETHER_API_KEY": TOKEN}, job_variables={}))
    with pytest.raises(InfrastructureError, match="image_pull_policy"):
        job_manifest(_spec(image_pull_policy="sometimes"))


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeKubernetes]:
    with fake_kubernetes() as fake:
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kubeconfig")))
        yield fake


def _script(code: str) -> Behaviour:
    return Behaviour(argv=[sys.executable, "-c", code])


def _infrastructure() -> KubernetesInfrastructure:
    return KubernetesInfrastructure(poll_seconds=0.05)


def test_a_run_is_a_job_whose_pod_output_and_exit_code_come_back(cluster: FakeKubernetes) -> None:
    cluster.behaviours["registry.example/flows:1.2"] = _script(
        "import os, sys; print('hello from the pod'); print('token', os.environ['TETHER_API_KEY'][-5:]); sys.exit(4)"
    )
    handle = _infrastructure().start(_spec(namespace="flows"))
    assert handle.identifier == f"job flows/{NAME}"
    assert list(handle.logs()) == ["hello from the pod", "token s-run"]
    assert handle.wait() == Exit(4)
    assert cluster.jobs[("flows", NAME)] == job_manifest(_spec(namespace="flows"))
    assert cluster.secrets == {}  # the token's Secret goes when the run ends
    assert not any("GET /apis/batch" in r for r in cluster.requests)  # pods are what it watches


def test_a_successful_pod(cluster: FakeKubernetes) -> None:
    cluster.behaviours["registry.example/flows:1.2"] = _script("print('done')")
    handle = _infrastructure().start(_spec())
    assert list(handle.logs()) == ["done"]
    assert handle.wait() == Exit(0)


def test_an_image_that_cannot_be_pulled_is_a_crash_with_the_reason(cluster: FakeKubernetes) -> None:
    cluster.behaviours["registry.example/missing:1"] = Behaviour(pull_error=True)
    handle = _infrastructure().start(_spec(image="registry.example/missing:1"))
    assert list(handle.logs()) == []
    ended = handle.wait()
    assert ended.code == 137
    assert ended.reason is not None
    assert ended.reason.startswith("ErrImagePull: failed to pull image")


def test_an_out_of_memory_pod_is_reported_as_such(cluster: FakeKubernetes) -> None:
    cluster.behaviours["registry.example/flows:1.2"] = Behaviour(argv=oom_argv(), oom=True)
    handle = _infrastructure().start(_spec())
    assert list(handle.logs()) == ["allocating"]
    assert handle.wait() == Exit(137, "OOMKilled")


def test_cancel_deletes_the_job_and_the_pod_gets_sigterm(cluster: FakeKubernetes) -> None:
    cluster.behaviours["registry.example/flows:1.2"] = _script(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: (print('terminating', flush=True), sys.exit(143)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    handle = _infrastructure().start(_spec())
    lines = handle.logs()
    assert next(lines) == "ready"
    assert handle.terminate() is True
    assert cluster.deleted_jobs == [("default", NAME, None)]
    assert list(lines) == ["terminating"]
    ended = handle.wait()
    # The pod may be gone before its status is read: then it counts as killed.
    assert ended.code in (143, 137)
    assert handle.terminate() is False


def test_kill_deletes_at_once(cluster: FakeKubernetes) -> None:
    cluster.behaviours["registry.example/flows:1.2"] = _script(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    handle = _infrastructure().start(_spec())
    assert next(handle.logs()) == "ready"
    handle.kill()
    assert cluster.deleted_jobs == [("default", NAME, 0)]
    assert handle.wait().code == 137


def test_kubernetes_refusing_the_job_is_an_infrastructure_error(cluster: FakeKubernetes) -> None:
    infrastructure = _infrastructure()
    cluster.behaviours["registry.example/flows:1.2"] = _script("pass")
    infrastructure.start(_spec()).wait()
    cluster.secrets[("default", NAME)] = {"stringData": {}}  # a leftover Secret of the same name
    with pytest.raises(InfrastructureError, match="409"):
        infrastructure.start(_spec())
