"""Reads about background task runs that the worker protocol needs."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from controlplane.runs.models import TaskRun
from controlplane.runs.states import StateType


def seconds_until_next_due(task_keys: Sequence[str]) -> float | None:
    """How long until the next queued run of `task_keys` falls due (0 if one is due); None if none is queued.

    Lets a worker that is woken by pushes sleep exactly until a run scheduled for later is due.
    """
    upcoming = (
        TaskRun.objects.filter(
            background=True, state_type=StateType.SCHEDULED, task_key__in=list(task_keys), lease_owner__isnull=True
        )
        .order_by("next_scheduled_start_time")
        .values_list("next_scheduled_start_time", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    return max(0.0, (upcoming - timezone.now()).total_seconds())
