"""The periodic services: one registry feeds the in-process runner, Celery beat and the command."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from controlplane.celery import app
from controlplane.orgs.models import Workspace
from controlplane.runs.models import FlowRun
from controlplane.services import cancellation, retention
from controlplane.services.runner import SERVICES, beat_schedule, service_named
from controlplane.services.tasks import run_service
from tests.support.runs import make_run
from tests.support.tenants import World

EXPECTED = {
    "lease-reaper",
    "agent-presence",
    "background-lease-reaper",
    "due-run-waker",
    "scheduler",
    "late-runs",
    "concurrency-lease-cleanup",
    "cancellation-cleanup",
    "retention",
    "paused-runs-expiry",
    "automation-events",
    "automation-deadlines",
    "automation-actions",
}


def test_every_service_is_registered_once_and_scheduled_by_beat() -> None:
    names = [service.name for service in SERVICES]
    assert sorted(names) == sorted(EXPECTED)
    schedule = beat_schedule()
    assert {entry["args"][0] for entry in schedule.values()} == EXPECTED  # type: ignore[index]
    assert all(entry["task"] == "tether.services.run" for entry in schedule.values())
    assert "tether.services.run" in app.tasks
    with pytest.raises(KeyError, match="known:"):
        service_named("nope")


@pytest.mark.django_db
def test_the_celery_task_runs_a_service_by_name(world: World) -> None:
    overdue = make_run(world, "SCHEDULED")
    FlowRun.dangerously_unscoped.filter(pk=overdue.pk).update(
        next_scheduled_start_time=timezone.now() - timedelta(minutes=5)
    )
    run_service.delay("late-runs")  # eager in the test settings
    overdue.refresh_from_db()
    assert overdue.state_name == "Late"


@pytest.mark.django_db
def test_run_services_once(world: World) -> None:
    out = io.StringIO()
    call_command("run_services", "--once", stdout=out)
    assert {line.split(":")[0] for line in out.getvalue().splitlines()} == EXPECTED


def test_stuck_cancelling_runs_and_orphaned_subflows_end_cancelled(world: World, settings: Any) -> None:
    settings.TETHER_CANCELLING_TIMEOUT_SECONDS = 1
    stuck = make_run(world, "CANCELLING")
    FlowRun.dangerously_unscoped.filter(pk=stuck.pk).update(state_timestamp=timezone.now() - timedelta(minutes=1))
    assert cancellation.cleanup() == 1
    stuck.refresh_from_db()
    assert stuck.state_type == "CANCELLED"


def test_retention_deletes_old_finished_runs_only(world: World) -> None:
    old = make_run(world, "COMPLETED")
    recent = make_run(world, "COMPLETED")
    running = make_run(world, "RUNNING")
    Workspace.objects.filter(pk=world.prod.pk).update(retention_days=7)
    FlowRun.dangerously_unscoped.filter(pk__in=[old.pk, running.pk]).update(end_time=timezone.now() - timedelta(days=8))
    assert retention.vacuum()["runs"] == 1
    assert set(FlowRun.dangerously_unscoped.values_list("id", flat=True)) == {recent.pk, running.pk}
