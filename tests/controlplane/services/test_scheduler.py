"""The scheduler keeps a horizon of runs, idempotently, and two schedulers never duplicate a run."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from controlplane.events.models import Event
from controlplane.flows.models import Deployment, DeploymentSchedule, Flow
from controlplane.runs.models import FlowRun, FlowRunState
from controlplane.services import late_runs, scheduler
from controlplane.services.scheduler import Horizon
from tests.support.runs import make_deployment, make_run
from tests.support.tenants import World

HORIZON = Horizon(min_runs=3, max_runs=100, min_time=timedelta(hours=1), max_time=timedelta(days=100))


def _schedule(deployment: Deployment, **fields: Any) -> DeploymentSchedule:
    schedule: DeploymentSchedule = DeploymentSchedule.dangerously_unscoped.create(
        workspace=deployment.workspace, deployment=deployment, **fields
    )
    return schedule


def test_horizon_keeps_at_least_three_runs_and_an_hour(world: World) -> None:
    daily = _schedule(make_deployment(world, name="daily"), kind="cron", cron="0 9 * * *")
    minutely = _schedule(make_deployment(world, name="minutely"), kind="cron", cron="* * * * *")
    created = scheduler.tick(horizon=HORIZON)
    assert FlowRun.dangerously_unscoped.filter(schedule=daily).count() == 3
    assert FlowRun.dangerously_unscoped.filter(schedule=minutely).count() == 60
    assert created == 63
    run = FlowRun.dangerously_unscoped.filter(schedule=daily).order_by("expected_start_time").first()
    assert run is not None
    assert run.state_type == "SCHEDULED"
    assert run.auto_scheduled
    assert run.expected_start_time is not None
    assert run.expected_start_time == run.next_scheduled_start_time
    assert run.expected_start_time.hour == 9
    assert FlowRunState.objects.filter(flow_run=run).count() == 1
    assert Event.dangerously_unscoped.filter(resource_id=f"tether.flow-run.{run.pk}").count() == 1


def test_a_second_pass_creates_nothing_and_paused_or_inactive_schedule_nothing(world: World) -> None:
    _schedule(make_deployment(world, name="a"), kind="interval", interval_seconds=600)
    _schedule(make_deployment(world, name="paused", paused=True), kind="cron", cron="* * * * *")
    _schedule(make_deployment(world, name="inactive"), kind="cron", cron="* * * * *", active=False)
    first = scheduler.tick(horizon=HORIZON)
    assert first == 6  # every 10 minutes for an hour
    assert scheduler.tick(horizon=HORIZON) == 0
    assert FlowRun.dangerously_unscoped.count() == 6


def test_parameters_merge_deployment_defaults_and_schedule_overrides(world: World) -> None:
    deployment = make_deployment(world, parameters={"env": "prod", "n": 1}, tags=["etl"])
    _schedule(deployment, kind="cron", cron="0 9 * * *", parameters={"n": 2})
    scheduler.tick(horizon=HORIZON)
    run = FlowRun.dangerously_unscoped.filter(deployment=deployment).first()
    assert run is not None
    assert run.parameters == {"env": "prod", "n": 2}
    assert run.tags == ["auto-scheduled", "etl"]


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_never_duplicate_a_run(world: World) -> None:
    """Issue 7, acceptance 2 (1,000 deployments, two concurrent schedulers, time moving on)."""
    flow = Flow.dangerously_unscoped.create(workspace=world.prod, name="many")
    deployments = Deployment.dangerously_unscoped.bulk_create(
        Deployment(workspace=world.prod, flow=flow, name=f"d{i}", entrypoint="f.py:f") for i in range(1000)
    )
    DeploymentSchedule.dangerously_unscoped.bulk_create(
        DeploymentSchedule(workspace=world.prod, deployment=d, kind="cron", cron=f"{i % 60} * * * *")
        for i, d in enumerate(deployments)
    )
    errors: list[BaseException] = []
    stop_at = time.monotonic() + 8

    def run_scheduler() -> None:
        try:
            offset = 0
            while time.monotonic() < stop_at:
                scheduler.tick(now=timezone.now() + timedelta(minutes=offset), horizon=HORIZON)
                offset += 7
        except BaseException as exc:  # recorded and re-raised by the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    duplicates = (
        FlowRun.dangerously_unscoped.values("schedule_id", "expected_start_time")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(duplicates) == []
    assert FlowRun.dangerously_unscoped.filter(auto_scheduled=True).count() >= 3000


def test_overdue_scheduled_runs_become_late_once(world: World) -> None:
    overdue = make_run(world, "SCHEDULED")
    FlowRun.dangerously_unscoped.filter(pk=overdue.pk).update(
        next_scheduled_start_time=timezone.now() - timedelta(minutes=1)
    )
    on_time = make_run(world, "SCHEDULED")
    FlowRun.dangerously_unscoped.filter(pk=on_time.pk).update(
        next_scheduled_start_time=timezone.now() + timedelta(minutes=1)
    )
    assert late_runs.tick() == 1
    assert late_runs.tick() == 0
    overdue.refresh_from_db()
    on_time.refresh_from_db()
    assert (overdue.state_type, overdue.state_name) == ("SCHEDULED", "Late")
    assert on_time.state_name == "Scheduled"
    assert Event.dangerously_unscoped.filter(event="tether.flow-run.Late").count() == 1


def test_a_schedule_spanning_dst_keeps_local_time(world: World) -> None:
    deployment = make_deployment(world, name="berlin")
    _schedule(deployment, kind="cron", cron="30 2 * * *", timezone="Europe/Berlin")
    spring_eve = datetime(2026, 3, 27, 12, tzinfo=timezone.get_current_timezone())
    scheduler.tick(now=spring_eve, horizon=HORIZON)
    times = sorted(t for t in FlowRun.dangerously_unscoped.values_list("expected_start_time", flat=True) if t)
    assert [t.isoformat() for t in times] == [
        "2026-03-28T01:30:00+00:00",
        "2026-03-29T01:30:00+00:00",
        "2026-03-30T00:30:00+00:00",
    ]
