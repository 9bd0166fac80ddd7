"""Celery's delivery guarantees (issue 7; RELIABILITY 33, 34), read from the configured app.

Workers acknowledge a task only after it ran (a worker killed mid-task leaves it to be
delivered again, so every task must be idempotent), take one task at a time, and Redis's
visibility timeout outlasts every delay we ask for, so a waiting task is never re-delivered
in a loop.
"""

from __future__ import annotations

from controlplane.celery import app
from controlplane.services.runner import beat_schedule

# The longest delay (countdown, ETA or expiry) any Tether task is sent with: beat's retention tick.
LONGEST_DELAY_SECONDS = 3600


def test_tasks_are_acknowledged_after_they_ran_one_at_a_time() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    tether_tasks = [task for name, task in app.tasks.items() if name.startswith("tether.")]
    assert tether_tasks
    assert all(task.acks_late for task in tether_tasks)


def test_the_visibility_timeout_outlasts_every_delay() -> None:
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    expiries = [float(entry["options"]["expires"]) for entry in beat_schedule().values()]  # type: ignore[index]
    assert max(expiries) <= LONGEST_DELAY_SECONDS
    assert visibility > LONGEST_DELAY_SECONDS


def test_tasks_travel_as_json_and_keep_no_results() -> None:
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_ignore_result is True
