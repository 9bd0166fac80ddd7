"""Runs the periodic services inside the server process (the embedded mode).

Production runs the same tick functions from Celery beat; here one daemon thread calls
each service when its interval has passed. A failing tick is logged and retried on its
next interval; it never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import close_old_connections

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicService:
    name: str
    interval_seconds: float
    tick: Callable[[], object]


# Services register here as they are built (scheduler, late runs, lease reaper, ...).
SERVICES: list[PeriodicService] = []


class InProcessServiceRunner:
    def __init__(self, services: Sequence[PeriodicService], *, resolution_seconds: float = 0.1) -> None:
        self._services = list(services)
        self._resolution = resolution_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tether-services", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        next_due = {service.name: 0.0 for service in self._services}
        while not self._stop.is_set():
            now = time.monotonic()
            for service in self._services:
                if now >= next_due[service.name]:
                    self._run_once(service)
                    next_due[service.name] = time.monotonic() + service.interval_seconds
            self._stop.wait(self._resolution)
        close_old_connections()

    @staticmethod
    def _run_once(service: PeriodicService) -> None:
        close_old_connections()
        try:
            service.tick()
        except Exception:
            logger.exception("service %s failed; it will run again on its next interval", service.name)


def _reap_leases() -> object:
    from controlplane.services.leases import reap

    return reap()


def _wake_due_runs() -> object:
    from controlplane.services.due_runs import tick

    return tick()


# Dispatch: hand back or finalise runs whose agent is gone; wake agents as runs fall due.
SERVICES.extend(
    [
        PeriodicService(name="lease-reaper", interval_seconds=5.0, tick=_reap_leases),
        PeriodicService(name="due-run-waker", interval_seconds=0.5, tick=_wake_due_runs),
    ]
)


def _announce_offline_agents() -> object:
    from controlplane.workpools.dispatch.presence import agents_announce_offline

    return agents_announce_offline()


# Agents silent for 3 heartbeats: `tether.agent.offline`, once (automations may react to it).
SERVICES.append(PeriodicService(name="agent-presence", interval_seconds=5.0, tick=_announce_offline_agents))


def _reap_background_leases() -> object:
    from controlplane.runs.services.background_leases import reap

    return reap()


# Background task runs (`task.delay()`) whose task worker stopped heartbeating: retried or handed back.
SERVICES.append(PeriodicService(name="background-lease-reaper", interval_seconds=5.0, tick=_reap_background_leases))


def _schedule_runs() -> object:
    from controlplane.services.scheduler import tick

    return tick()


def _mark_late_runs() -> object:
    from controlplane.services.late_runs import tick

    return tick()


# Scheduling: keep each schedule's horizon of runs; mark overdue runs Late.
SERVICES.extend(
    [
        PeriodicService(name="scheduler", interval_seconds=10.0, tick=_schedule_runs),
        PeriodicService(name="late-runs", interval_seconds=5.0, tick=_mark_late_runs),
    ]
)


def _delete_expired_leases() -> object:
    from controlplane.concurrency.services import expired_leases_delete

    return expired_leases_delete()


SERVICES.append(PeriodicService(name="concurrency-lease-cleanup", interval_seconds=60.0, tick=_delete_expired_leases))


def _expire_pauses() -> object:
    from controlplane.runs.services.pauses import paused_runs_expire

    return paused_runs_expire()


# A suspended run has no process left to notice its pause timed out: fail it here.
SERVICES.append(PeriodicService(name="paused-runs-expiry", interval_seconds=5.0, tick=_expire_pauses))


def _clean_up_cancellations() -> object:
    from controlplane.services.cancellation import cleanup

    return cleanup()


def _apply_retention() -> object:
    from controlplane.services.retention import vacuum

    return vacuum()


SERVICES.extend(
    [
        PeriodicService(name="cancellation-cleanup", interval_seconds=30.0, tick=_clean_up_cancellations),
        PeriodicService(name="retention", interval_seconds=3600.0, tick=_apply_retention),
    ]
)


def _evaluate_events() -> object:
    from controlplane.automations.evaluation import events_evaluate_all

    return events_evaluate_all()


def _evaluate_deadlines() -> object:
    from controlplane.automations.evaluation import deadlines_evaluate

    return deadlines_evaluate()


def _execute_due_actions() -> object:
    from controlplane.automations.execution import action_runs_execute_due

    return action_runs_execute_due()


# Automations: events that no on-commit task evaluated, proactive deadlines, due or retried actions.
SERVICES.extend(
    [
        PeriodicService(name="automation-events", interval_seconds=1.0, tick=_evaluate_events),
        PeriodicService(name="automation-deadlines", interval_seconds=1.0, tick=_evaluate_deadlines),
        PeriodicService(name="automation-actions", interval_seconds=1.0, tick=_execute_due_actions),
    ]
)


def service_named(name: str) -> PeriodicService:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(f"no periodic service named {name!r}; known: {', '.join(s.name for s in SERVICES)}")


def beat_schedule() -> dict[str, dict[str, object]]:
    """Celery beat entries for every service, at the same intervals as the in-process runner."""
    return {
        f"tether-{service.name}": {
            "task": "tether.services.run",
            "schedule": service.interval_seconds,
            "args": (service.name,),
            # A tick that could not start within its interval is dropped, not stacked up.
            "options": {"expires": max(service.interval_seconds, 1.0)},
        }
        for service in SERVICES
    }
