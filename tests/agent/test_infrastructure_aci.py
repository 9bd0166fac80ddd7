"""The aci infrastructure: exact container-group bodies, and runs driven through a fake Azure API."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from controlplane.workpools.serverless_variables import ACI_VARIABLES
from tests.agent.conftest import ControlPlane
from tests.agent.test_infrastructure_e2e import FINAL, agent, deployment, run_to_the_end
from tests.e2e.agent_support import wait_until
from tests.support.fake_azure import FakeAzure, Outcome, fake_azure
from tether.agent.infrastructure import Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.aci import (
    AciInfrastructure,
    container_group_body,
    customized_container_group_body,
    new_lines,
)

RUN_ID = "5d0c1e2f-8a9b-4c3d-9e8f-7a6b5c4d3e2f"
TOKEN = "tether_run_canary-token-for-this-run"
API_URL = "https://tether.example/api/v1/orgs/acme/workspaces/prod"
IMAGE = "acme.azurecr.io/flows/etl:1.2"
NAME = f"tether-brave-heron-{RUN_ID[:8]}"
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
GROUP_PATH = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/flows/providers/Microsoft.ContainerInstance/containerGroups/{NAME}"
)
TAGS = {"managed-by": "tether", "tether-flow-run-id": RUN_ID}
ENV = [
    {"name": "TETHER_API_URL", "value": API_URL},
    {"name": "TETHER_FLOW_RUN_EPOCH", "value": "2"},
    {"name": "TETHER_API_KEY", "secureValue": TOKEN},
]
IDENTITY = "/subscriptions/s/resourceGroups/flows/providers/Microsoft.ManagedIdentity/userAssignedIdentities/runner"
SUBNET = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/aci"


def _spec(**job_variables: Any) -> RunSpec:
    return RunSpec(
        flow_run_id=RUN_ID,
        name="Brave_Heron",
        env={"TETHER_API_URL": API_URL, "TETHER_API_KEY": TOKEN, "TETHER_FLOW_RUN_EPOCH": "2"},
        job_variables={
            "image": IMAGE,
            "subscription_id": SUBSCRIPTION,
            "resource_group_name": "flows",
            **job_variables,
        },
    )


def _container(**changes: Any) -> dict[str, Any]:
    properties = {
        "image": IMAGE,
        "command": ["python", "-m", "tether.engine", RUN_ID],
        "resources": {"requests": {"cpu": 1.0, "memoryInGB": 1.5}},
        "environmentVariables": ENV,
        **changes,
    }
    return {"name": "flow", "properties": properties}


def test_the_container_group_for_the_minimal_job_variables() -> None:
    assert container_group_body(_spec()) == {
        "location": "eastus",
        "tags": TAGS,
        "properties": {
            "osType": "Linux",
            "restartPolicy": "Never",
            # The token only as a secureValue: ARM never returns it.
            "containers": [_container()],
        },
    }


def test_the_container_group_for_every_job_variable_with_customizations() -> None:
    spec = _spec(
        location="westeurope",
        cpu=2,
        memory=4,
        env={"LEVEL": "debug", "TETHER_API_KEY": "tether_sa_not-this-one"},
        image_registry={"server": "acme.azurecr.io", "username": "puller", "password": "registry-password"},
        identities=[IDENTITY],
        subnet_ids=[SUBNET],
        dns_servers=["10.0.0.4"],
        customizations=[
            {"op": "add", "path": "/properties/priority", "value": "Spot"},
            {"op": "add", "path": "/tags/team", "value": "data"},
            {"op": "replace", "path": "/properties/containers/0/properties/resources/requests/cpu", "value": 0.5},
        ],
    )
    assert customized_container_group_body(spec) == {
        "location": "westeurope",
        "tags": {**TAGS, "team": "data"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "osType": "Linux",
            "restartPolicy": "Never",
            "containers": [
                _container(
                    resources={"requests": {"cpu": 0.5, "memoryInGB": 4.0}},
                    environmentVariables=[{"name": "LEVEL", "value": "debug"}, *ENV],
                )
            ],
            "imageRegistryCredentials": [
                {"server": "acme.azurecr.io", "username": "puller", "password": "registry-password"}
            ],
            "subnetIds": [{"id": SUBNET}],
            "dnsConfig": {"nameServers": ["10.0.0.4"]},
            "priority": "Spot",
        },
    }


def test_a_path_source_runs_the_engine_in_that_directory() -> None:
    spec = RunSpec(
        flow_run_id=RUN_ID,
        name="x",
        env={"TETHER_API_KEY": TOKEN},
        job_variables={"image": IMAGE},
        working_dir=Path("/opt/my flows"),
    )
    command = container_group_body(spec)["properties"]["containers"][0]["properties"]["command"]
    assert command == ["/bin/sh", "-c", f"cd '/opt/my flows' && exec python -m tether.engine {RUN_ID}"]


def test_every_job_variable_used_here_is_declared_by_the_pool_type() -> None:
    spec = _spec(
        credentials="{{ block.azure-credentials.prod }}",
        location="westeurope",
        cpu=2,
        memory=4,
        env={"LEVEL": "debug"},
        image_registry={"server": "acme.azurecr.io", "username": "puller", "password": "{{ block.secret.acr }}"},
        identities=[IDENTITY],
        subnet_ids=[SUBNET],
        dns_servers=["10.0.0.4"],
        keep_container_group=True,
        task_start_timeout_seconds=1,
        poll_interval_seconds=0.05,
        api_url="http://127.0.0.1:1",
        login_url="http://127.0.0.1:1",
        customizations=[{"op": "add", "path": "/tags/team", "value": "data"}],
    )
    Draft202012Validator(ACI_VARIABLES).validate(dict(spec.job_variables))
    assert set(spec.job_variables) == set(ACI_VARIABLES["properties"])


def test_job_variables_the_group_cannot_use_are_refused() -> None:
    with pytest.raises(InfrastructureError, match="image"):
        container_group_body(RunSpec(flow_run_id=RUN_ID, name="x", env={"TETHER_API_KEY": TOKEN}, job_variables={}))
    with pytest.raises(InfrastructureError, match="server"):
        container_group_body(_spec(image_registry={"username": "puller"}))
    with pytest.raises(InfrastructureError, match=r"customizations\[1\]"):
        customized_container_group_body(
            _spec(customizations=[{"op": "add", "path": "/tags/a", "value": "b"}, {"op": "remove", "path": "/nope"}])
        )
    with pytest.raises(InfrastructureError, match="azure-credentials"):
        AciInfrastructure().start(_spec())


def test_only_new_lines_of_the_whole_log_come_out() -> None:
    assert new_lines([], ["a", "b"]) == ["a", "b"]
    assert new_lines(["a", "b"], ["a", "b", "c"]) == ["c"]
    assert new_lines(["a", "b"], ["a", "b"]) == []
    assert new_lines(["a", "b"], []) == []
    # ACI keeps a tail of a long log: the start went, the agent continues after what it printed.
    assert new_lines(["a", "b", "c", "d"], ["c", "d", "e"]) == ["e"]
    assert new_lines(["x", "x", "y"], ["x", "y", "x", "y"]) == ["x", "y"]
    # Nothing in common: all of it is new.
    assert new_lines(["a", "b"], ["p", "q"]) == ["p", "q"]


@pytest.fixture
def azure() -> Iterator[FakeAzure]:
    with fake_azure() as fake:
        yield fake


def _run_spec(fake: FakeAzure, **job_variables: Any) -> RunSpec:
    credentials = {"tenant_id": fake.tenant_id, "client_id": fake.client_id, "client_secret": fake.client_secret}
    variables = {
        "credentials": credentials,
        "api_url": fake.url,
        "login_url": fake.url,
        "poll_interval_seconds": 0.05,
        **job_variables,
    }
    return _spec(**variables)


def test_a_run_creates_the_group_follows_its_log_and_deletes_it(azure: FakeAzure) -> None:
    lines = ("starting", "step 1 of 2", "step 2 of 2", "done")
    azure.outcomes[IMAGE] = Outcome("exit", 0, "Completed", lines, polls=4)
    customizations = [{"op": "add", "path": "/properties/sku", "value": "Standard"}]
    spec = _run_spec(azure, customizations=customizations)
    handle = AciInfrastructure().start(spec)
    assert handle.identifier == f"container group {NAME}"
    # The log grows while the container runs; each line comes out once.
    assert list(handle.logs()) == list(lines)
    assert handle.wait() == Exit(0, "Completed")

    token_call, put, *_ = azure.recorded
    assert token_call.path == f"/{azure.tenant_id}/oauth2/v2.0/token"
    assert token_call.body["scope"] == f"{azure.url}/.default"
    assert (put.method, put.path, put.query) == ("PUT", GROUP_PATH, {"api-version": "2023-05-01"})
    expected = container_group_body(spec)
    expected["properties"]["sku"] = "Standard"
    assert put.body == expected
    assert json.dumps(put.body).count(TOKEN) == 1  # as the secureValue, nowhere else
    assert put.headers["authorization"] in {f"Bearer {token}" for token in azure.tokens}
    assert len(azure.calls("GET", "/logs")) >= 2
    assert [r.path for r in azure.calls("DELETE")] == [GROUP_PATH]
    assert azure.groups == {}
    assert len(azure.calls("POST", "/token")) == 1
    assert azure.calls("POST", "/stop") == []


def test_a_failing_container_is_its_exit_code_and_detail(azure: FakeAzure) -> None:
    lines = ("Traceback (most recent call last):", "ValueError: boom")
    azure.outcomes[IMAGE] = Outcome("exit", 3, "Error", lines, polls=1)
    handle = AciInfrastructure().start(_run_spec(azure))
    assert list(handle.logs()) == list(lines)
    assert handle.wait() == Exit(3, "Error")
    assert azure.deleted == [GROUP_PATH.strip("/")]
    assert handle.terminate() is False


def test_wait_without_logs_and_keep_container_group(azure: FakeAzure) -> None:
    azure.outcomes[IMAGE] = Outcome("exit", 0, "Completed", ("hello",), polls=2)
    handle = AciInfrastructure().start(_run_spec(azure, keep_container_group=True))
    assert handle.wait() == Exit(0, "Completed")
    assert list(azure.groups) == [GROUP_PATH.strip("/")]
    assert azure.calls("DELETE") == []


def test_an_unavailable_api_is_polled_again(azure: FakeAzure) -> None:
    azure.outcomes[IMAGE] = Outcome("exit", 0, "Completed", ("one", "two"), polls=2)
    azure.unavailable_polls = 3
    handle = AciInfrastructure().start(_run_spec(azure))
    assert list(handle.logs()) == ["one", "two"]
    assert handle.wait() == Exit(0, "Completed")
    assert azure.unavailable_polls == 0


def test_an_api_unavailable_for_good_loses_the_run(azure: FakeAzure) -> None:
    azure.outcomes[IMAGE] = Outcome("hang")
    azure.unavailable_polls = 1000
    handle = AciInfrastructure().start(_run_spec(azure))
    ended = handle.wait()
    assert ended.code == 137
    assert ended.reason is not None
    assert ended.reason.startswith(f"lost track of container group {NAME} after 10 failed polls: ")
    assert "503 ServiceUnavailable" in ended.reason
    assert azure.groups == {}  # still cleaned up


def test_terminate_stops_then_deletes_the_group_and_the_run_ends(azure: FakeAzure) -> None:
    azure.outcomes[IMAGE] = Outcome("hang", log_lines=("ready", "working"))
    handle = AciInfrastructure().start(_run_spec(azure))
    output = handle.logs()
    assert next(output) == "ready"
    assert handle.terminate() is True
    rest = list(output)
    assert set(rest) <= {"working"}
    assert handle.wait() == Exit(137, "the container group was stopped (cancelled)")
    stop, delete = [r for r in azure.recorded if r.method in ("POST", "DELETE") and not r.path.endswith("/token")]
    assert (stop.method, stop.path) == ("POST", f"{GROUP_PATH}/stop")
    assert (delete.method, delete.path) == ("DELETE", GROUP_PATH)
    assert azure.groups == {}
    assert handle.terminate() is False


def test_kill_deletes_the_group(azure: FakeAzure) -> None:
    azure.outcomes[IMAGE] = Outcome("hang")
    handle = AciInfrastructure().start(_run_spec(azure))
    ended: list[Exit] = []
    thread = threading.Thread(target=lambda: ended.append(handle.wait()), daemon=True)
    thread.start()
    handle.kill()
    thread.join(30)
    assert ended == [Exit(137, "the container group was stopped (cancelled)")]
    assert [r.path for r in azure.calls("DELETE")] == [GROUP_PATH]
    assert azure.calls("POST", "/stop") == []


def test_a_container_that_never_starts_ends_after_the_start_timeout(azure: FakeAzure) -> None:
    detail = 'Back-off pulling image "acme.azurecr.io/flows/etl:1.2"'
    azure.outcomes[IMAGE] = Outcome("never_start", detail=detail)
    handle = AciInfrastructure().start(_run_spec(azure, task_start_timeout_seconds=1))
    assert list(handle.logs()) == []
    assert handle.wait() == Exit(137, f"the container did not start within 1s ({detail})")
    assert azure.groups == {}


def test_a_group_that_fails_to_provision_is_a_crash_with_the_event(azure: FakeAzure) -> None:
    detail = "The requested resource is not available in the location 'eastus' at this moment."
    azure.outcomes[IMAGE] = Outcome("provisioning_failed", detail=detail)
    handle = AciInfrastructure().start(_run_spec(azure))
    assert handle.wait() == Exit(137, detail)
    assert azure.groups == {}


def test_a_wrong_client_secret_is_a_clear_error(azure: FakeAzure) -> None:
    spec = _run_spec(azure)
    credentials = {**spec.job_variables["credentials"], "client_secret": "not-the-secret"}
    with pytest.raises(InfrastructureError, match=rf"service principal {azure.client_id} was refused.*AADSTS7000215"):
        AciInfrastructure().start(_run_spec(azure, credentials=credentials))
    assert azure.calls("PUT") == []


def test_an_unknown_tenant_is_a_clear_error(azure: FakeAzure) -> None:
    spec = _run_spec(azure)
    credentials = {**spec.job_variables["credentials"], "tenant_id": "11111111-2222-4333-8444-555555555555"}
    with pytest.raises(InfrastructureError, match=r"was refused \(400\): AADSTS90002"):
        AciInfrastructure().start(_run_spec(azure, credentials=credentials))


def test_a_missing_resource_group_is_a_clear_error(azure: FakeAzure) -> None:
    with pytest.raises(InfrastructureError, match=r"404 ResourceGroupNotFound.*'missing' could not be found"):
        AciInfrastructure().start(_run_spec(azure, resource_group_name="missing"))


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (403, "AuthorizationFailed", "The client does not have authorization", r"403 AuthorizationFailed.*permission"),
        (409, "ContainerGroupQuotaReached", "Resource type container groups quota exceeded", r"quota"),
    ],
)
def test_a_refused_group_is_a_clear_error(
    azure: FakeAzure, status: int, code: str, message: str, expected: str
) -> None:
    azure.put_error = (status, {"error": {"code": code, "message": message}})
    with pytest.raises(InfrastructureError, match=expected) as raised:
        AciInfrastructure().start(_run_spec(azure))
    assert f"create the container group {NAME} in flows" in str(raised.value)
    assert message in str(raised.value)


def test_a_group_of_the_same_name_is_a_conflict(azure: FakeAzure) -> None:
    infrastructure = AciInfrastructure()
    infrastructure.start(_run_spec(azure, keep_container_group=True)).wait()
    with pytest.raises(InfrastructureError, match=r"409 ContainerGroupUpdateConflict.*same name"):
        infrastructure.start(_run_spec(azure))


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
RUN_IMAGE = "registry.example/flows:run"


def _e2e_deployment(plane: ControlPlane, azure: FakeAzure, tmp_path: Path, **env: str) -> tuple[str, str, Path]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flows.py").write_text(FLOWS)
    block = f"e2e-{uuid.uuid4().hex[:8]}"
    data = {"tenant_id": azure.tenant_id, "client_id": azure.client_id, "client_secret": azure.client_secret}
    created = plane.http.post("blocks/", json={"block_type_slug": "azure-credentials", "name": block, "data": data})
    assert created.status_code == 201, created.text
    azure.outcomes[RUN_IMAGE] = Outcome("run")
    pool, deployment_id = deployment(
        plane,
        "aci",
        flows,
        image=RUN_IMAGE,
        credentials=f"{{{{ block.azure-credentials.{block} }}}}",
        subscription_id=SUBSCRIPTION,
        resource_group_name="flows",
        api_url=azure.url,
        login_url=azure.url,
        poll_interval_seconds=0.2,
        env={"TETHER_RESULTS_DIR": str(tmp_path / "results"), **env},
    )
    return pool, deployment_id, flows


@pytest.mark.e2e
def test_an_agent_runs_an_aci_deployment_end_to_end(
    control_plane: ControlPlane, azure: FakeAzure, tmp_path: Path
) -> None:
    """A real agent resolves the credentials block; the fake's "container" runs the real engine."""
    pool, deployment_id, flows = _e2e_deployment(control_plane, azure, tmp_path, WHERE="a container group")
    with agent(control_plane, pool, tmp_path) as log:
        run = run_to_the_end(control_plane, deployment_id, log)
        assert run["state_type"] == "COMPLETED", log.read_text()
        assert any("hello otter from a container group" in line["message"] for line in control_plane.logs(run["id"]))
        # The engine reports COMPLETED before the agent's next poll reads the group's last log.
        wait_until(lambda: f"{run['name']} finished (exit" in log.read_text(), 60, log.read_text())
        agent_output = log.read_text()
    (put,) = azure.calls("PUT")
    container = put.body["properties"]["containers"][0]["properties"]
    assert container["command"][-1] == f"cd {flows} && exec python -m tether.engine {run['id']}"
    token = next(v for v in container["environmentVariables"] if v["name"] == "TETHER_API_KEY")
    assert set(token) == {"name", "secureValue"}
    assert token["secureValue"].startswith("tether_run_")  # the run's token, not the agent's key
    assert control_plane.agent_key not in json.dumps([r.body for r in azure.recorded])
    assert "hello otter from a container group" in agent_output  # the container's log, followed
    assert token["secureValue"] not in agent_output
    assert azure.client_secret not in agent_output
    assert azure.groups == {}


@pytest.mark.e2e
def test_cancelling_an_aci_run_stops_and_deletes_its_group(
    control_plane: ControlPlane, azure: FakeAzure, tmp_path: Path
) -> None:
    pool, deployment_id, _ = _e2e_deployment(control_plane, azure, tmp_path, NAP="120")
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
        while azure.groups:  # the agent deletes the group right after the stop
            assert time.monotonic() < deadline + 60, log.read_text()
            time.sleep(0.2)
    stop, delete = [r for r in azure.recorded if r.method in ("POST", "DELETE") and not r.path.endswith("/token")]
    assert (stop.method, stop.path.endswith("/stop")) == ("POST", True)
    assert delete.method == "DELETE"
