"""The cloud-run infrastructure: exact Job bodies, and runs driven through a fake Cloud Run Admin API."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from controlplane.workpools.serverless_variables import CLOUD_RUN_VARIABLES
from tests.agent.conftest import ControlPlane
from tests.agent.test_infrastructure_e2e import FINAL, agent, deployment, run_to_the_end
from tests.support.fake_cloud_run import FakeCloudRun, Outcome, fake_cloud_run
from tether.agent.infrastructure import Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.cloud_run import CloudRunInfrastructure, customized_job_body, job_body

RUN_ID = "5d0c1e2f-8a9b-4c3d-9e8f-7a6b5c4d3e2f"
TOKEN = "tether_run_canary-token-for-this-run"
API_URL = "https://tether.example/api/v1/orgs/acme/workspaces/prod"
IMAGE = "us-docker.pkg.dev/acme-data/flows/etl:1.2"
NAME = f"tether-brave-heron-{RUN_ID[:8]}"
PARENT = "projects/acme-data/locations/europe-west1"
EMAIL = "runner@acme-data.iam.gserviceaccount.com"
ENV = [
    {"name": "TETHER_API_URL", "value": API_URL},
    {"name": "TETHER_FLOW_RUN_EPOCH", "value": "2"},
]


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return _private_key()


def _key_info(private_key: rsa.RSAPrivateKey, token_uri: str) -> str:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-data",
            "private_key_id": "0123abcd",
            "private_key": pem,
            "client_email": EMAIL,
            "token_uri": token_uri,
        }
    )


def _spec(**job_variables: Any) -> RunSpec:
    return RunSpec(
        flow_run_id=RUN_ID,
        name="Brave_Heron",
        env={"TETHER_API_URL": API_URL, "TETHER_API_KEY": TOKEN, "TETHER_FLOW_RUN_EPOCH": "2"},
        job_variables={"image": IMAGE, **job_variables},
    )


def test_the_job_body_for_the_minimal_job_variables() -> None:
    assert job_body(_spec()) == {
        "labels": {"managed-by": "tether", "tether-flow-run-id": RUN_ID},
        "template": {
            "taskCount": 1,
            "template": {
                "containers": [
                    {
                        "name": "flow",
                        "image": IMAGE,
                        "command": ["python", "-m", "tether.engine", RUN_ID],
                        "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
                        # The token is not here: the job outlives the run and more people may read it.
                        "env": ENV,
                    }
                ],
                "timeout": "3600s",
                "maxRetries": 0,
            },
        },
    }


def test_the_job_body_for_every_job_variable_with_customizations() -> None:
    spec = _spec(
        cpu="2",
        memory="4Gi",
        env={"LEVEL": "debug", "TETHER_API_KEY": "tether_sa_not-this-one"},
        service_account_name="flows@acme-data.iam.gserviceaccount.com",
        vpc_connector_name="projects/acme-data/locations/europe-west1/connectors/private",
        timeout_seconds=600,
        max_retries=2,
        customizations=[
            {"op": "add", "path": "/template/template/executionEnvironment", "value": "EXECUTION_ENVIRONMENT_GEN2"},
            {"op": "add", "path": "/template/template/vpcAccess/egress", "value": "ALL_TRAFFIC"},
            {"op": "replace", "path": "/template/template/containers/0/resources/limits/cpu", "value": "4"},
            {"op": "add", "path": "/labels/team", "value": "data"},
        ],
    )
    assert customized_job_body(spec) == {
        "labels": {"managed-by": "tether", "tether-flow-run-id": RUN_ID, "team": "data"},
        "template": {
            "taskCount": 1,
            "template": {
                "containers": [
                    {
                        "name": "flow",
                        "image": IMAGE,
                        "command": ["python", "-m", "tether.engine", RUN_ID],
                        "resources": {"limits": {"cpu": "4", "memory": "4Gi"}},
                        "env": [{"name": "LEVEL", "value": "debug"}, *ENV],
                    }
                ],
                "timeout": "600s",
                "maxRetries": 2,
                "serviceAccount": "flows@acme-data.iam.gserviceaccount.com",
                "vpcAccess": {
                    "connector": "projects/acme-data/locations/europe-west1/connectors/private",
                    "egress": "ALL_TRAFFIC",
                },
                "executionEnvironment": "EXECUTION_ENVIRONMENT_GEN2",
            },
        },
    }


def test_a_path_source_is_the_working_directory_in_the_image() -> None:
    spec = RunSpec(
        flow_run_id=RUN_ID,
        name="x",
        env={"TETHER_API_KEY": TOKEN},
        job_variables={"image": IMAGE},
        working_dir=Path("/opt/flows"),
    )
    assert job_body(spec)["template"]["template"]["containers"][0]["workingDir"] == "/opt/flows"
    assert "workingDir" not in job_body(_spec())["template"]["template"]["containers"][0]


def test_every_job_variable_used_here_is_declared_by_the_pool_type() -> None:
    spec = _spec(
        credentials="{{ block.gcp-credentials.prod }}",
        project="acme-data",
        region="europe-west1",
        cpu="2",
        memory="4Gi",
        env={"LEVEL": "debug"},
        service_account_name="flows@acme-data.iam.gserviceaccount.com",
        vpc_connector_name="connector",
        timeout_seconds=600,
        max_retries=2,
        keep_job=True,
        job_start_timeout_seconds=1,
        poll_interval_seconds=0.05,
        api_url="http://127.0.0.1:1",
        customizations=[{"op": "add", "path": "/labels/team", "value": "data"}],
    )
    Draft202012Validator(CLOUD_RUN_VARIABLES).validate(dict(spec.job_variables))
    assert set(spec.job_variables) == set(CLOUD_RUN_VARIABLES["properties"])


def test_job_variables_the_job_cannot_use_are_refused() -> None:
    with pytest.raises(InfrastructureError, match="image"):
        job_body(RunSpec(flow_run_id=RUN_ID, name="x", env={"TETHER_API_KEY": TOKEN}, job_variables={}))
    with pytest.raises(InfrastructureError, match=r"customizations\[0\].*/template/nope/x"):
        customized_job_body(_spec(customizations=[{"op": "replace", "path": "/template/nope/x", "value": 1}]))
    with pytest.raises(InfrastructureError, match="gcp-credentials"):
        CloudRunInfrastructure().start(_spec())


@pytest.fixture
def cloud_run(signing_key: rsa.RSAPrivateKey) -> Iterator[FakeCloudRun]:
    with fake_cloud_run(signing_key.public_key(), client_email=EMAIL) as fake:
        yield fake


def _run_spec(fake: FakeCloudRun, key: rsa.RSAPrivateKey, **job_variables: Any) -> RunSpec:
    variables = {
        "credentials": {"service_account_info": _key_info(key, fake.token_uri)},
        "region": "europe-west1",
        "api_url": fake.url,
        "poll_interval_seconds": 0.05,
        **job_variables,
    }
    return _spec(**variables)


def test_a_successful_run_creates_runs_polls_and_deletes_the_job(
    cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey
) -> None:
    customizations = [{"op": "add", "path": "/template/template/containers/0/args", "value": ["--verbose"]}]
    spec = _run_spec(cloud_run, signing_key, customizations=customizations)
    handle = CloudRunInfrastructure().start(spec)
    assert handle.identifier.startswith(f"execution {PARENT}/jobs/{NAME}/executions/{NAME}-")
    assert list(handle.logs()) == []
    assert handle.wait() == Exit(0)

    token_call, create, *_ = cloud_run.recorded
    assert token_call.path == "/token"
    assert token_call.body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert (create.method, create.path, create.query) == ("POST", f"/v2/{PARENT}/jobs", {"jobId": NAME})
    expected_body = job_body(spec)
    expected_body["template"]["template"]["containers"][0]["args"] = ["--verbose"]
    assert create.body == expected_body
    assert TOKEN not in json.dumps(create.body)
    assert create.headers["authorization"] in {f"Bearer {token}" for token in cloud_run.tokens}

    (run,) = cloud_run.calls("POST", ":run")
    assert run.path == f"/v2/{PARENT}/jobs/{NAME}:run"
    assert run.body == {
        "overrides": {"containerOverrides": [{"name": "flow", "env": [{"name": "TETHER_API_KEY", "value": TOKEN}]}]}
    }
    assert cloud_run.calls("GET", "/operations/"), "the create operation is waited for"
    assert [r.path for r in cloud_run.calls("DELETE")] == [f"/v2/{PARENT}/jobs/{NAME}"]
    assert cloud_run.jobs == {}
    assert cloud_run.deleted_jobs == [f"{PARENT}/jobs/{NAME}"]
    # One token serves every call of the run.
    assert len(cloud_run.calls("POST", "/token")) == 1
    assert cloud_run.calls("POST", ":cancel") == []


def test_a_failed_execution_is_exit_1_with_its_message(cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey) -> None:
    message = f"Task {NAME}-task0 failed with message: The container exited with an error."
    cloud_run.outcomes[IMAGE] = Outcome("fail", message)
    handle = CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key))
    assert handle.wait() == Exit(1, message)
    assert cloud_run.jobs == {}
    assert handle.terminate() is False


def test_keep_job_leaves_the_job(cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey) -> None:
    handle = CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key, keep_job=True, project="acme-data"))
    assert handle.wait() == Exit(0)
    assert list(cloud_run.jobs) == [f"{PARENT}/jobs/{NAME}"]
    assert cloud_run.calls("DELETE") == []


def test_a_token_about_to_expire_is_renewed(cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey) -> None:
    cloud_run.token_lifetime = 60  # inside the renewal margin: every call needs a fresh one
    handle = CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key))
    assert handle.wait() == Exit(0)
    api_calls = cloud_run.calls(contains="/v2/")
    assert len(cloud_run.calls("POST", "/token")) == len(api_calls) >= 5
    assert len({call.headers["authorization"] for call in api_calls}) == len(api_calls)


def test_an_unavailable_api_is_polled_again(cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey) -> None:
    cloud_run.unavailable_polls = 3
    handle = CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key))
    assert handle.wait() == Exit(0)
    assert cloud_run.unavailable_polls == 0


def test_an_api_unavailable_for_good_loses_the_run(cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey) -> None:
    cloud_run.unavailable_polls = 1000
    handle = CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key))
    ended = handle.wait()
    assert ended.code == 137
    assert ended.reason is not None
    assert ended.reason.startswith(f"lost track of {handle.identifier} after 10 failed polls: ")
    assert "503 UNAVAILABLE" in ended.reason
    assert cloud_run.jobs == {}  # still cleaned up


def _wait_in_thread(handle: Any) -> tuple[threading.Thread, list[Exit]]:
    ended: list[Exit] = []
    thread = threading.Thread(target=lambda: ended.append(handle.wait()), daemon=True)
    thread.start()
    return thread, ended


def _poll_until(condition: Any, what: str, timeout: float = 30.0) -> None:
    event = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        event.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_terminate_cancels_the_execution_and_wait_returns(
    cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey
) -> None:
    cloud_run.outcomes[IMAGE] = Outcome("hang")
    handle = CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key))
    thread, ended = _wait_in_thread(handle)
    _poll_until(lambda: any(e.polls >= 2 for e in cloud_run.executions.values()), "the execution to be polled")
    assert not ended
    assert handle.terminate() is True
    thread.join(30)
    assert ended == [Exit(137, "Execution was cancelled.")]
    (cancel,) = cloud_run.calls("POST", ":cancel")
    assert cancel.path == f"/v2/{handle.identifier.removeprefix('execution ')}:cancel"
    assert handle.terminate() is False
    assert cloud_run.jobs == {}


def test_an_execution_that_never_starts_is_cancelled_after_the_start_timeout(
    cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey
) -> None:
    cloud_run.outcomes[IMAGE] = Outcome("never_start")
    handle = CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key, job_start_timeout_seconds=1))
    assert handle.wait() == Exit(137, "the execution did not start within 1s")
    assert len(cloud_run.calls("POST", ":cancel")) == 1
    assert cloud_run.jobs == {}


def test_a_refused_service_account_is_a_clear_error(cloud_run: FakeCloudRun) -> None:
    # A key the token endpoint does not know: the signature does not verify.
    with pytest.raises(InfrastructureError, match=f"service account {EMAIL} was refused.*Invalid JWT Signature"):
        CloudRunInfrastructure().start(_run_spec(cloud_run, _private_key()))
    assert cloud_run.calls(contains="/v2/") == []


def test_a_key_that_is_not_a_key_file_is_a_clear_error(cloud_run: FakeCloudRun) -> None:
    spec = _spec(credentials={"service_account_info": "not json"}, api_url=cloud_run.url)
    with pytest.raises(InfrastructureError, match="not JSON"):
        CloudRunInfrastructure().start(spec)
    assert cloud_run.recorded == []


@pytest.mark.parametrize(
    ("status", "grpc", "message", "expected"),
    [
        (403, "PERMISSION_DENIED", "Permission 'run.jobs.create' denied", r"403 PERMISSION_DENIED.*lack a permission"),
        (404, "NOT_FOUND", "Project 'acme-data' not found", r"404 NOT_FOUND.*does not exist"),
        (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Job create requests'", r"quota"),
    ],
)
def test_a_refused_create_is_a_clear_error(
    cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey, status: int, grpc: str, message: str, expected: str
) -> None:
    cloud_run.create_error = (status, {"error": {"code": status, "message": message, "status": grpc}})
    with pytest.raises(InfrastructureError, match=expected) as raised:
        CloudRunInfrastructure().start(_run_spec(cloud_run, signing_key))
    assert f"create the Cloud Run job {NAME}" in str(raised.value)
    assert message in str(raised.value)
    assert cloud_run.calls("POST", ":run") == []


def test_a_job_of_the_same_name_is_a_conflict(cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey) -> None:
    infrastructure = CloudRunInfrastructure()
    infrastructure.start(_run_spec(cloud_run, signing_key, keep_job=True)).wait()
    with pytest.raises(InfrastructureError, match=r"409 ALREADY_EXISTS.*same name"):
        infrastructure.start(_run_spec(cloud_run, signing_key))


FLOWS = """
import os
import time

from tether import flow


@flow(log_prints=True)
def greet(name: str) -> str:
    print(f"hello {name} from {os.environ.get('WHERE', 'nowhere')}")
    time.sleep(float(os.environ.get("NAP", "0")))
    return name
"""


def _e2e_deployment(
    plane: ControlPlane, cloud_run: FakeCloudRun, key: rsa.RSAPrivateKey, tmp_path: Path, **env: str
) -> tuple[str, str, Path]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flows.py").write_text(FLOWS)
    block = f"e2e-{uuid.uuid4().hex[:8]}"
    data = {"service_account_info": _key_info(key, cloud_run.token_uri), "project": "acme-data"}
    created = plane.http.post("blocks/", json={"block_type_slug": "gcp-credentials", "name": block, "data": data})
    assert created.status_code == 201, created.text
    cloud_run.outcomes["registry.example/flows:run"] = Outcome("run")
    pool, deployment_id = deployment(
        plane,
        "cloud-run",
        flows,
        image="registry.example/flows:run",
        credentials=f"{{{{ block.gcp-credentials.{block} }}}}",
        region="europe-west1",
        api_url=cloud_run.url,
        poll_interval_seconds=0.2,
        env={"TETHER_RESULTS_DIR": str(tmp_path / "results"), **env},
    )
    return pool, deployment_id, flows


@pytest.mark.e2e
def test_an_agent_runs_a_cloud_run_deployment_end_to_end(
    control_plane: ControlPlane, cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    """A real agent resolves the credentials block, and the fake's "container" runs the real engine."""
    pool, deployment_id, flows = _e2e_deployment(control_plane, cloud_run, signing_key, tmp_path, WHERE="cloud run")
    with agent(control_plane, pool, tmp_path) as log:
        run = run_to_the_end(control_plane, deployment_id, log)
        assert run["state_type"] == "COMPLETED", log.read_text()
        assert any("hello otter from cloud run" in line["message"] for line in control_plane.logs(run["id"]))
        agent_output = log.read_text()
    (create,) = [call for call in cloud_run.calls("POST") if call.path == f"/v2/{PARENT}/jobs"]
    container = create.body["template"]["template"]["containers"][0]
    assert container["workingDir"] == str(flows)
    assert container["command"] == ["python", "-m", "tether.engine", run["id"]]
    assert "TETHER_API_KEY" not in json.dumps(create.body)
    (run_call,) = cloud_run.calls("POST", ":run")
    [token] = run_call.body["overrides"]["containerOverrides"][0]["env"]
    assert token["name"] == "TETHER_API_KEY"
    assert token["value"].startswith("tether_run_")  # the run's token, not the agent's key
    assert control_plane.agent_key not in json.dumps([r.body for r in cloud_run.recorded])
    assert cloud_run.jobs == {}
    assert token["value"] not in agent_output
    assert "BEGIN PRIVATE KEY" not in agent_output


@pytest.mark.e2e
def test_cancelling_a_cloud_run_run_cancels_its_execution(
    control_plane: ControlPlane, cloud_run: FakeCloudRun, signing_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    pool, deployment_id, _ = _e2e_deployment(control_plane, cloud_run, signing_key, tmp_path, NAP="120")
    with agent(control_plane, pool, tmp_path) as log:
        body = {"deployment_id": deployment_id, "parameters": {"name": "otter"}}
        created = control_plane.http.post("flow-runs/", json=body)
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        deadline = time.monotonic() + 90
        while control_plane.get(f"flow-runs/{run_id}/")["state_type"] != "RUNNING":
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert control_plane.http.post(f"flow-runs/{run_id}/cancel/", json={}).status_code < 300
        while (run := control_plane.get(f"flow-runs/{run_id}/"))["state_type"] not in FINAL:
            assert time.monotonic() < deadline + 60, log.read_text()
            time.sleep(0.2)
        assert run["state_type"] == "CANCELLED", log.read_text()
        while cloud_run.jobs:  # deleted once the agent saw the execution end
            assert time.monotonic() < deadline + 60, log.read_text()
            time.sleep(0.2)
    assert len(cloud_run.calls("POST", ":cancel")) >= 1
    (execution,) = cloud_run.executions.values()
    assert execution.cancelled
