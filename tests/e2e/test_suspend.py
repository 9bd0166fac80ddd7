"""`suspend_flow_run` end to end: a real server, a real `tether agent start`, the engine exits and comes back.

The run suspends (its engine exits 0, freeing the agent's slot), a person resumes it through
the API with typed input, an agent claims it again, and the flow runs from the top: work
cached before the suspension is not redone, the same `suspend_flow_run` call returns the
stored input, and the run completes. A flow retry after the resumption is still available:
suspending did not use it up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.agent_support import FINAL, Server, agent, agent_env, control_plane, wait_until

pytestmark = pytest.mark.e2e

DATABASE_URL = os.environ.get(
    "TETHER_SUSPEND_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_suspend_e2e"
)

FLOWS = """
from dataclasses import dataclass
from pathlib import Path

from tether import flow, suspend_flow_run, task
from tether.events import emit_event
from tether.tasks import task_input_hash


@dataclass
class Approval:
    approved: bool
    reviewer: str


def _note(out: str, line: str) -> None:
    with open(Path(out) / "journal", "a") as journal:
        journal.write(line + "\\n")


@task(cache_key_fn=task_input_hash, persist_result=True)
def build_report(out: str) -> str:
    _note(out, "build_report ran")
    return "report-v1"


@flow(retries=1, retry_delay_seconds=0)
def approval_gate(out: str) -> str:
    _note(out, "flow started")
    report = build_report(out)
    approval = suspend_flow_run(wait_for_input=Approval, timeout=600)
    emit_event(
        event="acme.report.approved",
        resource={"tether.resource.id": f"acme.report.{report}"},
        payload={"reviewer": approval.reviewer, "approved": approval.approved},
    )
    marker = Path(out) / "failed-once"
    if not marker.exists():
        marker.touch()
        _note(out, "transient failure")
        raise RuntimeError("the publishing service hiccupped")
    _note(out, f"published by {approval.reviewer}")
    return f"{report} approved by {approval.reviewer}"


@flow(retries=1, retry_delay_seconds=0)
def always_fails(out: str) -> None:
    _note(out, "attempt")
    raise RuntimeError("always")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("suspend-server")
    with control_plane(
        tmp,
        DATABASE_URL,
        TETHER_AGENT_LEASE_SECONDS="4",
        TETHER_AGENT_HEARTBEAT_SECONDS="1",
        TETHER_AGENT_LONG_POLL_SECONDS="2",
    ) as running:
        yield running


def test_suspend_exit_resume_with_input_and_complete(server: Server, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flows.py").write_text(FLOWS)
    out = tmp_path / "out"
    out.mkdir()
    deployment = server.deployment("suspend-pool", flows, entry="approval_gate")
    env = agent_env(server, TETHER_RESULTS_DIR=str(tmp_path / "results"))

    with agent(server, "suspend-pool", tmp_path, env=env) as running:
        run_id = server.create_run(deployment, out=str(out))
        suspended = server.wait_for(run_id, {"PAUSED", *FINAL}, timeout=120)
        assert (suspended["state_type"], suspended["state_name"]) == ("PAUSED", "Suspended"), running.log()
        details = suspended["state"]["details"]
        assert details["pause_key"] == "pause-1"
        assert details["run_input_schema"]["required"] == ["approved", "reviewer"]
        # The engine exited by itself, with 0: the agent's slot is free while nobody answers.
        wait_until(lambda: f"{suspended['name']} finished (exit 0)" in running.log(), 30, running.log())
        assert running.engines() == []
        assert server.run(run_id)["state_name"] == "Suspended"

        wrong = server.http.post(f"flow-runs/{run_id}/resume/", json={"input": {"approved": "yes"}})
        assert wrong.status_code == 422, wrong.text
        assert server.run(run_id)["state_name"] == "Suspended"
        resumed = server.http.post(
            f"flow-runs/{run_id}/resume/", json={"input": {"approved": True, "reviewer": "alice"}}
        )
        assert resumed.status_code == 200, resumed.text

        finished = server.wait_for(run_id, FINAL, timeout=120)
        # Three processes, each ending cleanly: suspended, handed back for the retry, completed.
        wait_until(lambda: running.log().count(f"{finished['name']} finished (exit 0)") == 3, 30, running.log())

    assert finished["state_type"] == "COMPLETED", running.log()
    # From the top after the resumption, and again for the retry; the task's work was cached, not redone.
    assert (out / "journal").read_text().splitlines() == [
        "flow started",
        "build_report ran",
        "flow started",
        "transient failure",
        "flow started",
        "published by alice",
    ]
    states = [s["name"] for s in server.get(f"flow-runs/{run_id}/states/")]
    # Suspended, rescheduled by the resumption, claimed again; the failure after it was retried
    # once (the suspension did not use up the flow's retry), in a third process.
    assert states == [
        "Scheduled",
        "Pending",
        "Running",
        "Suspended",
        "Scheduled",
        "Pending",
        "Running",
        "AwaitingRetry",
        "Pending",
        "Running",
        "Completed",
    ], states

    tasks = server.get("task-runs/", flow_run_id=run_id)["results"]
    assert sorted(t["state_name"] for t in tasks) == ["Cached", "Cached", "Completed"]
    inputs = server.get(f"flow-runs/{run_id}/input/")["results"]
    assert [(i["key"], i["value"]) for i in inputs] == [("pause-1", {"approved": True, "reviewer": "alice"})]
    # emit_event from the deployment's run (with its run token) reached the event log.
    # Once per process that got past the suspension: the failed attempt and its retry.
    events = server.get("events/", event="acme.report.approved")["results"]
    assert len(events) == 2
    for event in events:
        assert event["payload"] == {"reviewer": "alice", "approved": True}
        assert f"tether.flow-run.{run_id}" in {r["tether.resource.id"] for r in event["related"]}


def test_a_deployment_run_retries_in_a_new_process_exactly_as_often_as_allowed(server: Server, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flows.py").write_text(FLOWS)
    out = tmp_path / "out"
    out.mkdir()
    deployment = server.deployment("retry-pool", flows, entry="always_fails")
    with agent(server, "retry-pool", tmp_path, env=agent_env(server)) as running:
        run_id = server.create_run(deployment, out=str(out))
        finished = server.wait_for(run_id, FINAL, timeout=120)
        wait_until(lambda: running.log().count(f"Started {finished['name']}") == 2, 30, running.log())
        wait_until(lambda: running.engines() == [], 30, running.log())
        assert f"{finished['name']} finished (exit 0)" in running.log()  # the first process handed the run back
    assert finished["state_type"] == "FAILED", running.log()
    assert (out / "journal").read_text().splitlines() == ["attempt", "attempt"]
    states = [s["name"] for s in server.get(f"flow-runs/{run_id}/states/")]
    assert states == ["Scheduled", "Pending", "Running", "AwaitingRetry", "Pending", "Running", "Failed"], states
    retry_line = "Retry 1/1 will start in 0 second(s), in a new process"
    messages = [line["message"] for line in server.get(f"flow-runs/{run_id}/logs/")["results"]]
    assert sum(retry_line in m for m in messages) == 1, messages
