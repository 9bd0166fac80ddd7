"""The due-run waker: pushes `wake` to a pool's agents the moment a scheduled run falls due.

Runs created due, or put back to SCHEDULED, wake their pool when that transaction commits
(workpools.dispatch.hooks). Runs scheduled for later need a clock: this sub-second tick
wakes every pool that has a run entering the claim window (due within the prefetch) since
the last tick. Several hosts ticking at once only send duplicate wakes, which are harmless.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from django.utils import timezone

from controlplane.runs.models import FlowRun
from controlplane.runs.states import StateType
from controlplane.workpools.dispatch import push
from controlplane.workpools.dispatch.timings import dispatch_timings

TICK_SECONDS = 0.5

_lock = threading.Lock()
_watermark: datetime | None = None


def tick() -> int:
    """Wake the pools with runs that entered the claim window since the last tick; returns how many pools."""
    global _watermark
    horizon = timezone.now() + dispatch_timings().prefetch
    with _lock:
        since = _watermark or horizon - timedelta(seconds=TICK_SECONDS * 2)
        _watermark = horizon
    pools = set(
        FlowRun.dangerously_unscoped.filter(
            state_type=StateType.SCHEDULED,
            work_pool__isnull=False,
            next_scheduled_start_time__gt=since,
            next_scheduled_start_time__lte=horizon,
        )
        .values_list("work_pool_id", flat=True)
        .distinct()
    )
    for pool_id in pools:
        push.wake_pool_now(pool_id)
    return len(pools)
