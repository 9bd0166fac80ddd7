"""SLAs on deployments compile into proactive automations that fire when the promise is broken."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from controlplane.automations.evaluation import deadlines_evaluate, events_evaluate_all
from controlplane.automations.execution import action_runs_execute_due
from controlplane.automations.models import Automation, DeploymentSla, TriggerBucket
from controlplane.automations.slas import next_due
from controlplane.runs.models import FlowRun
from tests.support.runs import PROD, make_deployment
from tests.support.tenants import World

SLAS = f"{PROD}/slas/"


def _sla(client: Any, deployment: Any, target: Any, **fields: Any) -> dict[str, Any]:
    body = {"deployment_id": str(deployment.pk), "name": "sla", "actions": [
        {"type": "run-deployment", "deployment_id": str(target.pk)}], **fields}  # fmt: skip
    response = client.post(SLAS, body, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def _run(client: Any, deployment: Any, *states: dict[str, Any]) -> str:
    run = client.post(f"{PROD}/flow-runs/", {"deployment_id": str(deployment.pk)}, format="json").json()
    for state in states:
        answer = client.post(f"{PROD}/flow-runs/{run['id']}/set-state/", {"state": state}, format="json")
        assert answer.status_code in (200, 201), answer.content
    events_evaluate_all()
    return str(run["id"])


def _fired_runs(target: Any) -> int:
    action_runs_execute_due()
    return FlowRun.dangerously_unscoped.filter(deployment=target).count()


def test_start_within_fires_for_a_late_run_that_does_not_start(developer: Any, world: World, settings: Any) -> None:
    settings.TETHER_LATE_AFTER_SECONDS = 15
    watched, target = make_deployment(world, name="watched"), make_deployment(world, name="target")
    sla = _sla(developer, watched, target, kind="start_within", seconds=60)
    automation = Automation.dangerously_unscoped.get(sla_id=sla["id"])
    assert sla["automation_id"] == str(automation.pk)
    assert automation.trigger["after"] == ["tether.flow-run.Late"]
    assert automation.trigger["within"] == 45
    late = {"type": "SCHEDULED", "name": "Late"}
    _run(developer, watched, late, {"type": "PENDING"}, {"type": "RUNNING"})  # starts in time
    _run(developer, watched, late)  # never starts
    _run(developer, watched)  # not late: no window opens
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=30)) == 0
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=46)) == 1
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=120)) == 0
    assert _fired_runs(target) == 1


def test_complete_within_fires_for_a_run_still_running(developer: Any, world: World) -> None:
    watched, target = make_deployment(world, name="watched"), make_deployment(world, name="target")
    _sla(developer, watched, target, kind="complete_within", seconds=300)
    running = ({"type": "PENDING"}, {"type": "RUNNING"})
    _run(developer, watched, *running, {"type": "COMPLETED"})
    _run(developer, watched, *running, {"type": "FAILED"})  # finished: the SLA is about duration
    _run(developer, watched, *running)
    other = make_deployment(world, name="other")
    _run(developer, other, *running)  # another deployment's runs are not watched
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=200)) == 0
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=301)) == 1
    assert _fired_runs(target) == 1


def test_freshness_fires_on_a_day_without_a_completed_run(developer: Any, world: World) -> None:
    watched, target = make_deployment(world, name="watched"), make_deployment(world, name="target")
    sla = _sla(developer, watched, target, kind="freshness", time_of_day="06:30", timezone="Europe/Paris")
    bucket = TriggerBucket.dangerously_unscoped.get(automation__sla_id=sla["id"])
    assert bucket.deadline is not None
    local_due = bucket.deadline.astimezone(ZoneInfo("Europe/Paris"))
    assert (local_due.hour, local_due.minute) == (6, 30)
    assert timezone.now() < bucket.deadline <= timezone.now() + timedelta(days=1)
    first_due = bucket.deadline

    # Day 1: a run completes before the deadline (a failed one does not count): nothing fires.
    _run(developer, watched, {"type": "PENDING"}, {"type": "RUNNING"}, {"type": "FAILED"})
    _run(developer, watched, {"type": "PENDING"}, {"type": "RUNNING"}, {"type": "COMPLETED"})
    assert deadlines_evaluate(now=first_due + timedelta(seconds=1)) == 0
    bucket.refresh_from_db()
    # The next window keeps the local time of day (23 or 25 h later across a DST change).
    second_due = bucket.deadline
    assert second_due == next_due(DeploymentSla(time_of_day=time(6, 30), timezone="Europe/Paris"), first_due)
    # Day 2: no completed run by the deadline: the action runs, once.
    assert deadlines_evaluate(now=second_due + timedelta(seconds=1)) == 1
    assert deadlines_evaluate(now=second_due + timedelta(seconds=2)) == 0
    assert _fired_runs(target) == 1


def test_next_due_is_the_next_local_time_of_day() -> None:
    sla = DeploymentSla(time_of_day=datetime.strptime("06:30", "%H:%M").time(), timezone="America/New_York")
    before = datetime(2026, 3, 2, 11, 0, tzinfo=ZoneInfo("UTC"))  # 06:00 in New York
    assert next_due(sla, before) == datetime(2026, 3, 2, 6, 30, tzinfo=ZoneInfo("America/New_York"))
    after = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("UTC"))  # 07:00 in New York
    assert next_due(sla, after) == datetime(2026, 3, 3, 6, 30, tzinfo=ZoneInfo("America/New_York"))


def test_sla_validation_ownership_update_and_delete(developer: Any, world: World) -> None:
    watched, target = make_deployment(world, name="watched"), make_deployment(world, name="target")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"kind": "complete_within"}, "seconds"),
        ({"kind": "freshness"}, "time_of_day"),
        ({"kind": "freshness", "time_of_day": "06:00", "timezone": "Mars/Olympus"}, "timezone"),
        ({"kind": "start_within", "seconds": 1}, "seconds"),
    ]
    for fields, named in bad:
        answer = developer.post(SLAS, {"deployment_id": str(watched.pk), "name": "x", "actions": [
            {"type": "run-deployment", "deployment_id": str(target.pk)}], **fields}, format="json")  # fmt: skip
        assert answer.status_code == 422, (fields, answer.content)
        assert named in answer.json()["error"]["details"], answer.content
    sla = _sla(developer, watched, target, kind="complete_within", seconds=60)
    owned = Automation.dangerously_unscoped.get(sla_id=sla["id"])
    assert developer.delete(f"{PROD}/automations/{owned.pk}/").status_code == 409
    changed = developer.patch(f"{SLAS}{sla['id']}/", {"seconds": 90}, format="json")
    assert changed.status_code == 200, changed.content
    owned.refresh_from_db()
    assert owned.trigger["within"] == 90
    assert developer.get(SLAS, {"deployment_id": str(watched.pk)}).json()["results"][0]["seconds"] == 90
    assert developer.delete(f"{SLAS}{sla['id']}/").status_code == 204
    assert not Automation.dangerously_unscoped.filter(pk=owned.pk).exists()
