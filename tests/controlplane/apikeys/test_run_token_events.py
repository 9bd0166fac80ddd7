"""Run tokens may emit events (`tether.events.emit_event` in a deployment's run), naming only their own runs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from controlplane.events.models import Event
from controlplane.runs.models import FlowRun, TaskRun
from tests.controlplane.workpools.test_dispatch_support import Fleet, claim, due_run, hello, make_fleet
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World

EVENTS = f"{PROD}/events/"


@pytest.fixture
def fleet(world: World) -> Fleet:
    return make_fleet(world)


def _claimed(fleet: Fleet) -> tuple[FlowRun, Any]:
    run = due_run(fleet)
    (claimed,) = claim(fleet, hello(fleet), capacity=1)
    return run, bearer(claimed["run_token"])


def _event(name: str, *, resource: str = "acme.report.eu", related: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "event": name,
        "resource": {"tether.resource.id": resource},
        "related": [{"tether.resource.id": r} for r in related or []],
        "payload": {"region": "eu"},
    }


def test_a_run_token_emits_events_naming_its_own_run_and_task_runs(fleet: Fleet) -> None:
    run, client = _claimed(fleet)
    own_task = TaskRun.dangerously_unscoped.create(workspace=fleet.world.prod, flow_run=run, name="t", task_key="t")
    not_reported_yet = uuid.uuid4()  # the reporter may deliver the task run after the event
    body = [
        _event("acme.report.requested", related=[f"tether.flow-run.{run.pk}", f"tether.task-run.{own_task.pk}"]),
        _event("acme.report.sent", related=[f"tether.flow-run.{run.pk}", f"tether.task-run.{not_reported_yet}"]),
        _event("acme.report.plain"),
    ]
    response = client.post(EVENTS, body, format="json")
    assert response.status_code == 202, response.content
    stored = Event.dangerously_unscoped.filter(workspace=fleet.world.prod, event__startswith="acme.").order_by("event")
    assert [e.event for e in stored] == ["acme.report.plain", "acme.report.requested", "acme.report.sent"]


def test_a_run_token_cannot_emit_events_about_another_run(fleet: Fleet) -> None:
    _, client = _claimed(fleet)
    other = due_run(fleet)
    other_task = TaskRun.dangerously_unscoped.create(workspace=fleet.world.prod, flow_run=other, name="x", task_key="x")
    attempts = [
        [_event("acme.forged", resource=f"tether.flow-run.{other.pk}")],
        [_event("acme.forged", related=[f"tether.flow-run.{other.pk}"])],
        [_event("acme.forged", related=[f"tether.task-run.{other_task.pk}"])],
        {"events": [_event("acme.ok"), _event("acme.forged", related=[f"tether.flow-run.{other.pk}"])]},
        [_event("acme.forged", related=["tether.flow-run.not-a-uuid"])],
    ]
    for body in attempts:
        assert client.post(EVENTS, body, format="json").status_code == 404, body
    assert not Event.dangerously_unscoped.filter(workspace=fleet.world.prod, event__startswith="acme.").exists()


def test_reserved_names_stay_reserved_for_run_tokens(fleet: Fleet) -> None:
    run, client = _claimed(fleet)
    response = client.post(
        EVENTS, [_event("tether.flow-run.Completed", resource=f"tether.flow-run.{run.pk}")], format="json"
    )
    assert response.status_code in (400, 422), response.content
