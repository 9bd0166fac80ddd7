"""Pausing and suspending flow runs, resuming them with typed input, and pauses that time out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from controlplane.runs.models import FlowRun, FlowRunInput
from controlplane.runs.services.pauses import PAUSE_TIMED_OUT_MESSAGE, paused_runs_expire
from controlplane.runs.states import StateType
from tests.support.clients import bearer
from tests.support.runs import PROD, in_prod, make_deployment, make_run
from tests.support.tenants import World, service_account_key

S = StateType
APPROVAL_SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}, "reviewer": {"type": "string", "minLength": 1}},
    "required": ["approved", "reviewer"],
}


def _client(world: World, role: str = "developer") -> Any:
    _, secret = service_account_key(world.alice, world.prod, role, name=f"{role}-key")
    return bearer(secret)


def _pause(client: Any, run: FlowRun, *, name: str = "Paused", timeout_s: float = 3600, **details: Any) -> Any:
    deadline = (timezone.now() + timedelta(seconds=timeout_s)).isoformat()
    state = {"type": "PAUSED", "name": name, "details": {"pause_key": "pause-1", "pause_timeout": deadline, **details}}
    return client.post(f"{PROD}/flow-runs/{run.pk}/set-state/", {"state": state}, format="json")


def _resume(client: Any, run: FlowRun, body: dict[str, Any]) -> Any:
    return client.post(f"{PROD}/flow-runs/{run.pk}/resume/", body, format="json")


def test_a_paused_run_resumes_only_with_input_matching_its_schema(world: World) -> None:
    client = _client(world)
    run = make_run(world, S.RUNNING)
    assert _pause(client, run, run_input_schema=APPROVAL_SCHEMA).status_code == 200
    run.refresh_from_db()
    assert (run.state_type, run.run_count) == (S.PAUSED, 1)

    missing = _resume(client, run, {})
    assert missing.status_code == 422
    assert missing.json()["error"]["details"]["schema"] == APPROVAL_SCHEMA
    wrong = _resume(client, run, {"input": {"approved": "yes"}})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"]["paths"] == ["approved", "reviewer"]
    assert "input does not match" in wrong.json()["error"]["message"]
    run.refresh_from_db()
    assert run.state_type == S.PAUSED
    assert not FlowRunInput.dangerously_unscoped.filter(flow_run=run).exists()

    ok = _resume(client, run, {"input": {"approved": True, "reviewer": "alice"}})
    assert ok.status_code == 200, ok.content
    assert ok.json()["state"]["type"] == "RUNNING"
    run.refresh_from_db()
    # The same attempt goes on in the same process: not a new run.
    assert (run.state_type, run.run_count) == (S.RUNNING, 1)
    stored = client.get(f"{PROD}/flow-runs/{run.pk}/input/", {"key": "pause-1"}).json()["results"]
    assert [(entry["key"], entry["value"]) for entry in stored] == [
        ("pause-1", {"approved": True, "reviewer": "alice"})
    ]
    assert client.get(f"{PROD}/flow-runs/{run.pk}/input/", {"key": "other"}).json()["results"] == []

    again = _resume(client, run, {"input": {"approved": True, "reviewer": "bob"}})
    assert again.status_code == 409
    assert FlowRunInput.dangerously_unscoped.get(flow_run=run).value == {"approved": True, "reviewer": "alice"}


def test_a_pause_without_a_schema_is_an_approval(world: World) -> None:
    client = _client(world, "runner")
    run = make_run(world, S.RUNNING)
    assert _pause(_client(world), run).status_code == 200
    assert _resume(client, run, {}).status_code == 200
    run.refresh_from_db()
    assert run.state_type == S.RUNNING
    assert FlowRunInput.dangerously_unscoped.get(flow_run=run, key="pause-1").value == {}


def test_viewers_cannot_resume(world: World) -> None:
    run = make_run(world, S.RUNNING)
    assert _pause(_client(world), run).status_code == 200
    assert _resume(_client(world, "viewer"), run, {}).status_code == 403
    run.refresh_from_db()
    assert run.state_type == S.PAUSED


def test_a_pause_with_an_invalid_schema_is_refused(world: World) -> None:
    run = make_run(world, S.RUNNING)
    refused = _pause(_client(world), run, run_input_schema={"type": "no-such-type"})
    assert refused.status_code == 409
    assert "run_input_schema" in refused.json()["error"]["message"]
    run.refresh_from_db()
    assert run.state_type == S.RUNNING


def test_only_a_deployment_run_can_be_suspended_and_it_resumes_to_scheduled(world: World) -> None:
    client = _client(world)
    adhoc = make_run(world, S.RUNNING)
    assert _pause(client, adhoc, name="Suspended").status_code == 409

    run = make_run(world, S.RUNNING, deployment=make_deployment(world))
    assert _pause(client, run, name="Suspended", run_input_schema=APPROVAL_SCHEMA).status_code == 200
    resumed = _resume(client, run, {"input": {"approved": False, "reviewer": "carol"}})
    assert resumed.status_code == 200, resumed.content
    run.refresh_from_db()
    assert (run.state_type, run.state_name) == (S.SCHEDULED, "Scheduled")
    assert run.next_scheduled_start_time is not None
    assert run.next_scheduled_start_time <= timezone.now()
    stored = FlowRunInput.dangerously_unscoped.get(flow_run=run, key="pause-1").value
    assert stored == {"approved": False, "reviewer": "carol"}


def test_resuming_a_run_that_is_not_paused_is_a_conflict(world: World) -> None:
    run = make_run(world, S.RUNNING)
    answer = _resume(_client(world), run, {"input": {"a": 1}})
    assert answer.status_code == 409
    assert answer.json()["error"]["details"]["state_type"] == "RUNNING"


def test_a_timed_out_pause_cannot_be_resumed_and_is_failed_by_the_expiry_service(world: World) -> None:
    client = _client(world)
    expired = make_run(world, S.RUNNING)
    suspended = make_run(world, S.RUNNING, deployment=make_deployment(world))
    waiting = make_run(world, S.RUNNING)
    assert _pause(client, expired, timeout_s=-1).status_code == 200
    assert _pause(client, suspended, name="Suspended", timeout_s=-1).status_code == 200
    assert _pause(client, waiting, timeout_s=3600).status_code == 200

    assert _resume(client, expired, {}).status_code == 409

    assert paused_runs_expire() == 2
    assert paused_runs_expire() == 0  # idempotent
    with in_prod(world):
        for run in (expired, suspended):
            run.refresh_from_db()
            assert (run.state_type, run.state_message) == (S.FAILED, PAUSE_TIMED_OUT_MESSAGE)
        waiting.refresh_from_db()
        assert waiting.state_type == S.PAUSED


@pytest.mark.parametrize("key", ["\x00", "x" * 300])
def test_an_unstorable_input_key_filter_is_a_400(world: World, key: str) -> None:
    run = make_run(world, S.RUNNING)
    assert _client(world).get(f"{PROD}/flow-runs/{run.pk}/input/", {"key": key}).status_code == 400
