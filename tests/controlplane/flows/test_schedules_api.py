"""Deployment schedules over the API: validation, preview, and replacing future runs on change."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from controlplane.flows.models import DeploymentSchedule
from controlplane.runs.models import FlowRun
from controlplane.services import scheduler
from controlplane.services.scheduler import Horizon
from tests.support.clients import session
from tests.support.runs import PROD, make_deployment, make_run
from tests.support.tenants import World

HORIZON = Horizon(min_runs=3, max_runs=100, min_time=timedelta(hours=1), max_time=timedelta(days=100))


def test_create_list_and_preview(world: World) -> None:
    deployment = make_deployment(world)
    alice = session(world.alice)
    url = f"{PROD}/deployments/{deployment.pk}/schedules/"
    created = alice.post(url, {"kind": "cron", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"}, format="json")
    assert created.status_code == 201
    assert [s["cron"] for s in alice.get(url).json()["results"]] == ["0 9 * * 1-5"]
    preview = alice.post(f"{url}preview/?count=5", {"kind": "interval", "interval_seconds": 3600}, format="json")
    assert preview.status_code == 200
    assert len(preview.json()) == 5


def test_invalid_schedules_are_refused_with_the_reason(world: World) -> None:
    deployment = make_deployment(world)
    url = f"{PROD}/deployments/{deployment.pk}/schedules/"
    alice = session(world.alice)
    for body, reason in (
        ({"kind": "cron", "cron": "99 * * * *"}, "minute"),
        ({"kind": "cron", "cron": "0 9 * * *", "timezone": "Nowhere/Land"}, "time zone"),
        ({"kind": "rrule", "rrule": "FREQ=NEVER"}, "rrule"),
    ):
        response = alice.post(url, body, format="json")
        assert response.status_code == 422, body
        assert reason in response.json()["error"]["message"]
    assert not DeploymentSchedule.dangerously_unscoped.exists()


def test_changing_a_schedule_replaces_only_its_future_auto_runs(world: World) -> None:
    deployment = make_deployment(world)
    schedule = DeploymentSchedule.dangerously_unscoped.create(
        workspace=world.prod, deployment=deployment, kind="cron", cron="0 9 * * *"
    )
    scheduler.tick(horizon=HORIZON)
    manual = make_run(world, "SCHEDULED", deployment=deployment)
    waiting = FlowRun.dangerously_unscoped.filter(schedule=schedule).order_by("expected_start_time").first()
    assert waiting is not None
    FlowRun.dangerously_unscoped.filter(pk=waiting.pk).update(state_name="AwaitingConcurrencySlot")
    response = session(world.alice).patch(
        f"{PROD}/deployments/{deployment.pk}/schedules/{schedule.pk}/", {"cron": "0 18 * * *"}, format="json"
    )
    assert response.status_code == 200
    remaining = set(FlowRun.dangerously_unscoped.values_list("id", flat=True))
    assert remaining == {manual.pk, waiting.pk}
    scheduler.tick(horizon=HORIZON)
    hours = {
        run.expected_start_time.hour
        for run in FlowRun.dangerously_unscoped.filter(schedule=schedule)
        if run.pk != waiting.pk and run.expected_start_time
    }
    assert hours == {18}


def test_pausing_a_deployment_removes_its_future_auto_runs_and_stops_scheduling(world: World) -> None:
    deployment = make_deployment(world)
    DeploymentSchedule.dangerously_unscoped.create(
        workspace=world.prod, deployment=deployment, kind="cron", cron="0 9 * * *"
    )
    scheduler.tick(horizon=HORIZON)
    assert FlowRun.dangerously_unscoped.count() == 3
    alice = session(world.alice)
    assert alice.post(f"{PROD}/deployments/{deployment.pk}/pause/", format="json").status_code == 200
    assert FlowRun.dangerously_unscoped.filter(expected_start_time__gt=timezone.now()).count() == 0
    assert scheduler.tick(horizon=HORIZON) == 0
    alice.post(f"{PROD}/deployments/{deployment.pk}/resume/", format="json")
    assert scheduler.tick(horizon=HORIZON) == 3
