"""The ecs infrastructure: exact task definitions and RunTask requests, and runs against moto in server mode.

moto's ECS does not run containers: tests/support/moto_server.py keeps its tasks RUNNING and
ends them (exit code, stop reason) the way ECS would. RunTask placement failures, which moto
never produces, come from a one-endpoint fake (`_PlacementFailures`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import moto.settings
import pytest
from botocore.config import Config  # type: ignore[import-untyped]

from tests.support.fake_runtime import FakeServer, JsonHandler
from tests.support.moto_server import CLUSTER, REGION, MotoAws, moto_aws
from tether.agent.infrastructure import Exit, InfrastructureError, RunSpec, build_infrastructure
from tether.agent.infrastructure.ecs import (
    EcsHandle,
    EcsInfrastructure,
    definition_matches,
    run_task_request,
    task_definition,
)
from tether.agent.infrastructure.patching import PatchError

RUN_ID = "5d0c1e2f-8a9b-4c3d-9e8f-7a6b5c4d3e2f"
TOKEN = "tether_run_canary-token-for-this-run"
API_URL = "https://tether.example/api/v1/orgs/acme/workspaces/prod"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flows:1.2"
TASK_DEF_ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/tether-flows:7"
ENV = {"TETHER_API_URL": API_URL, "TETHER_API_KEY": TOKEN, "TETHER_FLOW_RUN_EPOCH": "2"}
COMMAND = ["python", "-m", "tether.engine", RUN_ID]
# A test waiting on a generator must fail, not hang, if the task's end is never seen.
pytestmark = pytest.mark.timeout(120)
TAGS = [{"key": "tether.io/managed-by", "value": "tether"}, {"key": "tether.io/flow-run-id", "value": RUN_ID}]


def _spec(**job_variables: Any) -> RunSpec:
    return RunSpec(flow_run_id=RUN_ID, name="Brave_Heron", env=ENV, job_variables={"image": IMAGE, **job_variables})


def _environment(**extra: str) -> list[dict[str, str]]:
    env = {**extra, **ENV}
    return [{"name": key, "value": env[key]} for key in sorted(env)]


# --- pure builders -------------------------------------------------------------------------------


def test_the_task_definition_for_the_minimal_job_variables() -> None:
    assert task_definition(_spec()) == {
        "family": "tether-flows",
        "containerDefinitions": [{"name": "tether", "image": IMAGE, "essential": True, "memory": 2048}],
        "cpu": "1024",
        "memory": "2048",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
    }


def test_the_task_definition_for_every_job_variable_it_uses() -> None:
    spec = _spec(
        family="nightly-etl",
        container_name="flow",
        cpu=2048,
        memory="4096",
        task_role_arn="arn:aws:iam::123456789012:role/flow-task",
        execution_role_arn="arn:aws:iam::123456789012:role/ecs-execution",
        cloudwatch_logs=True,
        log_group="/acme/flows",
        stream_prefix="etl",
        env={"LEVEL": "debug"},
    )
    definition = task_definition(spec, region="eu-west-1")
    assert definition == {
        "family": "nightly-etl",
        "containerDefinitions": [
            {
                "name": "flow",
                "image": IMAGE,
                "essential": True,
                "memory": 4096,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/acme/flows",
                        "awslogs-stream-prefix": "etl",
                        "awslogs-create-group": "true",
                        "awslogs-region": "eu-west-1",
                    },
                },
            }
        ],
        "cpu": "2048",
        "memory": "4096",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "taskRoleArn": "arn:aws:iam::123456789012:role/flow-task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecs-execution",
    }
    # Nothing of the run is in it: it is shared by runs and readable by whoever may describe it.
    assert TOKEN not in json.dumps(definition)
    assert RUN_ID not in json.dumps(definition)
    assert "LEVEL" not in json.dumps(definition)


def test_a_path_source_is_the_working_directory_of_the_container() -> None:
    spec = RunSpec(
        flow_run_id=RUN_ID, name="x", env=ENV, job_variables={"image": IMAGE}, working_dir=Path("/opt/flows/etl")
    )
    assert task_definition(spec)["containerDefinitions"][0]["workingDirectory"] == "/opt/flows/etl"


def test_the_agent_builds_it_for_ecs_pools() -> None:
    assert isinstance(build_infrastructure("ecs"), EcsInfrastructure)
    assert (EcsInfrastructure.kind, EcsInfrastructure.needs_local_code) == ("ecs", False)


def test_an_ec2_task_without_subnets_uses_the_default_network_mode() -> None:
    spec = _spec(launch_type="EC2", memory="2 GB")
    assert task_definition(spec) == {
        "family": "tether-flows",
        "containerDefinitions": [{"name": "tether", "image": IMAGE, "essential": True}],
        "cpu": "1024",
        "memory": "2 GB",
        "requiresCompatibilities": ["EC2"],
    }
    request = run_task_request(spec, TASK_DEF_ARN)
    assert request["launchType"] == "EC2"
    assert "networkConfiguration" not in request


def test_the_run_task_request_for_the_minimal_job_variables() -> None:
    spec = _spec(subnets=["subnet-a"], env={"LEVEL": "debug", "TETHER_API_KEY": "tether_sa_not-this-one"})
    assert run_task_request(spec, TASK_DEF_ARN) == {
        "taskDefinition": TASK_DEF_ARN,
        "count": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"], "assignPublicIp": "ENABLED"}},
        "overrides": {
            "containerOverrides": [
                # The run's token wins over a job variable of the same name.
                {"name": "tether", "command": COMMAND, "environment": _environment(LEVEL="debug")}
            ]
        },
        "startedBy": "tether",
        "tags": TAGS,
    }


def test_customizations_patch_the_run_task_request() -> None:
    spec = _spec(
        cluster="flows",
        subnets=["subnet-public"],
        security_groups=["sg-open"],
        container_name="flow",
        customizations=[
            {"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/subnets", "value": ["subnet-p1"]},
            {"op": "add", "path": "/networkConfiguration/awsvpcConfiguration/subnets/-", "value": "subnet-p2"},
            {"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/securityGroups/0", "value": "sg-x"},
            {"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/assignPublicIp", "value": "DISABLED"},
            {"op": "add", "path": "/platformVersion", "value": "1.4.0"},
            {"op": "add", "path": "/overrides/containerOverrides/0/cpu", "value": 512},
            {"op": "remove", "path": "/tags/0"},
        ],
    )
    assert run_task_request(spec, TASK_DEF_ARN) == {
        "cluster": "flows",
        "taskDefinition": TASK_DEF_ARN,
        "count": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-p1", "subnet-p2"],
                "securityGroups": ["sg-x"],
                "assignPublicIp": "DISABLED",
            }
        },
        "overrides": {
            "containerOverrides": [{"name": "flow", "command": COMMAND, "environment": _environment(), "cpu": 512}]
        },
        "startedBy": "tether",
        "tags": TAGS[1:],
        "platformVersion": "1.4.0",
    }


def test_capacity_providers_replace_the_launch_type() -> None:
    spot = run_task_request(_spec(launch_type="FARGATE_SPOT", subnets=["subnet-a"]), TASK_DEF_ARN)
    assert spot["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert "launchType" not in spot
    strategy = [{"capacityProvider": "batch-asg", "weight": 2, "base": 1}]
    custom = run_task_request(_spec(capacity_provider_strategy=strategy), TASK_DEF_ARN)
    assert custom["capacityProviderStrategy"] == strategy
    assert "launchType" not in custom
    assert "networkConfiguration" not in custom
    assert "requiresCompatibilities" not in task_definition(_spec(capacity_provider_strategy=strategy))


def test_a_registered_revision_matches_only_with_exactly_the_fields_tether_sets() -> None:
    desired = task_definition(_spec(task_role_arn="arn:aws:iam::123456789012:role/flow"))
    container = {**desired["containerDefinitions"][0], "cpu": 0, "portMappings": [], "environment": []}
    registered = {**desired, "containerDefinitions": [container], "revision": 3, "status": "ACTIVE", "volumes": []}
    assert definition_matches(desired, registered)  # what AWS adds does not count
    assert not definition_matches(desired, {**registered, "status": "INACTIVE"})
    assert not definition_matches(task_definition(_spec()), registered)  # a role it no longer wants
    assert not definition_matches(desired, {**registered, "containerDefinitions": [{**container, "image": "other"}]})
    assert not definition_matches(desired, {**registered, "containerDefinitions": [container, container]})


def test_job_variables_a_task_cannot_use_are_refused() -> None:
    with pytest.raises(InfrastructureError, match="image"):
        task_definition(RunSpec(flow_run_id=RUN_ID, name="x", env=ENV, job_variables={}))
    with pytest.raises(InfrastructureError, match="subnets"):
        run_task_request(_spec(), TASK_DEF_ARN)
    with pytest.raises(InfrastructureError, match="launch_type"):
        run_task_request(_spec(launch_type="LAMBDA", subnets=["subnet-a"]), TASK_DEF_ARN)


def test_a_patch_naming_a_missing_path_is_an_error_naming_the_operation() -> None:
    spec = _spec(
        subnets=["subnet-a"],
        customizations=[
            {"op": "add", "path": "/platformVersion", "value": "LATEST"},
            {"op": "replace", "path": "/networkConfiguration/awsvpcConfig/assignPublicIp", "value": "DISABLED"},
        ],
    )
    with pytest.raises(PatchError) as caught:
        run_task_request(spec, TASK_DEF_ARN)
    assert str(caught.value) == (
        'customizations[1] {"op": "replace", "path": "/networkConfiguration/awsvpcConfig/assignPublicIp"}: '
        "'awsvpcConfig' does not exist"
    )


# --- against moto ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoAws]:
    with moto_aws() as aws:
        yield aws


@pytest.fixture
def aws(moto_server: MotoAws) -> MotoAws:
    moto_server.reset()
    return moto_server


def _run_spec(aws: MotoAws, **job_variables: Any) -> RunSpec:
    variables = {
        "aws_credentials": aws.credentials(),
        "cluster": CLUSTER,
        "subnets": [aws.subnets[0]],
        "security_groups": [aws.security_group],
        "poll_interval_seconds": 0.05,
        **job_variables,
    }
    return _spec(**variables)


# One for the module, as the agent keeps one per pool type (and its clients with it).
INFRASTRUCTURE = EcsInfrastructure()


def _start(spec: RunSpec) -> EcsHandle:
    return INFRASTRUCTURE.start(spec)


def _now_ms() -> int:
    return int(time.time() * 1000)  # CloudWatch drops events older than 14 days


def _families(aws: MotoAws) -> list[str]:
    return list(aws.client("ecs").list_task_definitions()["taskDefinitionArns"])


def test_a_run_is_a_task_whose_exit_code_comes_back(aws: MotoAws) -> None:
    spec = _run_spec(
        aws,
        env={"LEVEL": "debug"},
        customizations=[
            {"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/subnets", "value": [aws.subnets[1]]},
            {"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/assignPublicIp", "value": "DISABLED"},
        ],
    )
    handle = _start(spec)
    task_id = handle.task_arn.rsplit("/", 1)[-1]
    assert handle.identifier == f"ecs task {CLUSTER}/{task_id}"

    task = aws.task(handle.task_arn)
    expected = run_task_request(spec, task["taskDefinitionArn"])
    assert task["lastStatus"] == "RUNNING"
    assert task["launchType"] == "FARGATE"
    assert task["startedBy"] == "tether"
    assert task["overrides"] == expected["overrides"]
    assert task["overrides"]["containerOverrides"][0]["environment"] == _environment(LEVEL="debug")
    assert task["tags"] == TAGS
    subnet = next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "subnetId")
    assert subnet == aws.subnets[1]  # the patched, private subnet

    registered = aws.client("ecs").describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    assert registered["taskDefinition"]["family"] == "tether-flows"
    assert TOKEN not in json.dumps(registered, default=str)

    assert list(handle.logs()) == []  # no cloudwatch_logs: nothing to follow
    aws.end_task(handle.task_arn, exit_code=0)
    assert handle.wait() == Exit(0)
    assert handle.terminate() is False  # already stopped


def test_the_task_definition_is_registered_once_and_reused(aws: MotoAws) -> None:
    first = _start(_run_spec(aws))
    second = _start(_run_spec(aws))
    arns = _families(aws)
    assert len(arns) == 1
    assert aws.task(first.task_arn)["taskDefinitionArn"] == aws.task(second.task_arn)["taskDefinitionArn"] == arns[0]

    bigger = _start(_run_spec(aws, cpu="2048", memory="4096"))
    assert aws.task(bigger.task_arn)["taskDefinitionArn"].endswith("tether-flows:2")
    explicit = _start(_run_spec(aws, task_definition_arn=arns[0]))
    assert aws.task(explicit.task_arn)["taskDefinitionArn"] == arns[0]
    assert len(_families(aws)) == 2  # the explicit ARN registered nothing


def test_a_failed_container_reports_its_exit_code_and_reason(aws: MotoAws) -> None:
    handle = _start(_run_spec(aws))
    aws.end_task(handle.task_arn, exit_code=1)
    assert handle.wait() == Exit(1, "Essential container in task exited")

    oom = _start(_run_spec(aws))
    aws.end_task(oom.task_arn, exit_code=137, container_reason="OutOfMemoryError: Container killed due to memory usage")
    assert oom.wait() == Exit(137, "OutOfMemoryError: Container killed due to memory usage")


def test_a_task_that_never_ran_is_a_kill_with_the_reason(aws: MotoAws) -> None:
    handle = _start(_run_spec(aws))
    aws.end_task(
        handle.task_arn,
        exit_code=None,
        stop_code="TaskFailedToStart",
        stopped_reason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
    )
    assert handle.wait() == Exit(
        137, "TaskFailedToStart: CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    )


def test_cancel_stops_the_task(aws: MotoAws) -> None:
    handle = _start(_run_spec(aws))
    assert handle.terminate() is True
    task = aws.task(handle.task_arn)
    assert (task["lastStatus"], task["desiredStatus"], task["stoppedReason"]) == (
        "STOPPED",
        "STOPPED",
        "Cancelled by Tether",
    )
    # The engine got SIGTERM, reported CANCELLED and exited 143.
    aws.end_task(handle.task_arn, exit_code=143, stop_code="UserInitiated", stopped_reason="Cancelled by Tether")
    assert handle.wait() == Exit(143, "Cancelled by Tether")
    assert handle.terminate() is False


def test_a_task_that_does_not_start_in_time_is_stopped(aws: MotoAws) -> None:
    handle = _start(_run_spec(aws, task_start_timeout_seconds=1))
    aws.hold_task(handle.task_arn, "PROVISIONING")
    ended = handle.wait()
    assert ended == Exit(137, "the task did not start within 1s (still PROVISIONING)")
    task = aws.task(handle.task_arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["stoppedReason"] == "Tether: the task did not start within 1s (still PROVISIONING)"


def test_cloudwatch_logs_are_followed_until_the_task_stopped(aws: MotoAws) -> None:
    handle = _start(_run_spec(aws, cloudwatch_logs=True, log_group="/acme/flows", stream_prefix="etl"))
    definition = aws.client("ecs").describe_task_definition(taskDefinition="tether-flows")["taskDefinition"]
    assert definition["containerDefinitions"][0]["logConfiguration"]["options"] == {
        "awslogs-group": "/acme/flows",
        "awslogs-stream-prefix": "etl",
        "awslogs-create-group": "true",
        "awslogs-region": REGION,
    }
    logs = aws.client("logs")
    stream = f"etl/tether/{handle.task_arn.rsplit('/', 1)[-1]}"
    lines = handle.logs()
    logs.create_log_group(logGroupName="/acme/flows")
    logs.create_log_stream(logGroupName="/acme/flows", logStreamName=stream)
    logs.put_log_events(
        logGroupName="/acme/flows",
        logStreamName=stream,
        logEvents=[{"timestamp": _now_ms(), "message": "hello from the task"}],
    )
    assert next(lines) == "hello from the task"
    logs.put_log_events(
        logGroupName="/acme/flows",
        logStreamName=stream,
        logEvents=[{"timestamp": _now_ms(), "message": "two\nlines"}],
    )
    aws.end_task(handle.task_arn, exit_code=0)
    assert list(lines) == ["two", "lines"]
    assert handle.wait() == Exit(0)


def test_a_missing_log_stream_is_not_an_error(aws: MotoAws) -> None:
    handle = _start(_run_spec(aws, cloudwatch_logs=True))
    aws.end_task(handle.task_arn, exit_code=0)
    assert list(handle.logs()) == []
    assert handle.wait() == Exit(0)


def test_a_bad_patch_fails_before_anything_is_registered(aws: MotoAws) -> None:
    spec = _run_spec(aws, customizations=[{"op": "remove", "path": "/overrides/taskRoleArn"}])
    with pytest.raises(PatchError, match=r'customizations\[0\] \{"op": "remove", "path": "/overrides/taskRoleArn"\}'):
        _start(spec)
    assert _families(aws) == []


def test_ecs_refusing_the_task_is_an_infrastructure_error(aws: MotoAws) -> None:
    with pytest.raises(InfrastructureError, match="ClusterNotFoundException"):
        _start(_run_spec(aws, cluster="no-such-cluster"))


def test_bad_credentials_are_a_clear_error(aws: MotoAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys against its IAM
    with pytest.raises(InfrastructureError, match="AWS refused the credentials") as caught:
        _start(_run_spec(aws))
    assert "not-a-real-secret" not in str(caught.value)


def test_no_credentials_at_all_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    spec = _spec(region=REGION, subnets=["subnet-a"])
    with pytest.raises(InfrastructureError, match="No AWS credentials"):
        EcsInfrastructure().start(spec)


class _PlacementFailures(JsonHandler):
    """RunTask as ECS answers when it cannot place the task (moto never does)."""

    def do_POST(self) -> None:
        self.body()
        target = self.headers.get("X-Amz-Target", "")
        if not target.endswith(".RunTask"):
            self.send_json(400, {"__type": "InvalidParameterException", "message": f"unexpected {target}"})
            return
        failure = {"arn": "arn:aws:ecs:eu-west-1:123456789012:container-instance/x", "reason": "RESOURCE:MEMORY"}
        self.send_json(200, {"tasks": [], "failures": [failure]})


def test_run_task_failures_are_an_infrastructure_error() -> None:
    fake = FakeServer(ThreadingHTTPServer(("127.0.0.1", 0), _PlacementFailures))
    fake.serve()
    try:
        credentials = {
            "aws_access_key_id": "AKIAFAKE",
            "aws_secret_access_key": "fake",
            "region_name": REGION,
            "endpoint_url": f"http://127.0.0.1:{fake.port}",
        }
        spec = _spec(aws_credentials=credentials, subnets=["subnet-a"], task_definition_arn=TASK_DEF_ARN)
        with pytest.raises(InfrastructureError, match=r"could not place the task: RESOURCE:MEMORY"):
            EcsInfrastructure().start(spec)
        assert fake.requests == ["POST /"]  # the ARN was given: nothing described or registered
    finally:
        fake.close()


def test_a_task_that_cannot_be_described_any_more_ends_the_run_as_lost() -> None:
    unreachable = boto3.client(
        "ecs",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",  # discard: nothing listens
        aws_access_key_id="AKIAFAKE",
        aws_secret_access_key="fake",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    handle = EcsHandle(
        ecs=unreachable,
        logs_client=None,
        cluster=CLUSTER,
        task_arn="arn:aws:ecs:eu-west-1:123456789012:task/flows/0123",
        container_name="tether",
        poll_seconds=0.01,
        start_timeout=300,
        log_stream=None,
    )
    ended = handle.wait()
    assert ended.code == 137
    assert ended.reason is not None
    assert ended.reason.startswith("lost track of the task: Could not connect to the endpoint URL")
