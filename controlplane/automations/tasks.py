"""Celery tasks: thin wrappers around the evaluation and execution services (production).

Redelivered tasks are harmless: events are marked handled in the transaction that
evaluates them, and action runs are locked and marked done with their effects.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from celery import shared_task

from controlplane.automations.evaluation import events_evaluate_all
from controlplane.automations.execution import action_runs_execute

logger = logging.getLogger(__name__)

DISPATCH_EXPIRES_SECONDS = 60


@shared_task(name="tether.automations.evaluate_events", acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def evaluate_events() -> None:
    events_evaluate_all()


@shared_task(name="tether.automations.execute_action_runs", acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def execute_action_runs(ids: list[str]) -> None:
    action_runs_execute(ids=[uuid.UUID(pk) for pk in ids])


def configured_app() -> None:
    """Make the project's Celery app (broker from settings) the current one in web processes,
    which do not start through `controlplane.celery` the way workers do."""
    import controlplane.celery  # noqa: F401


def evaluate_events_on_commit() -> None:
    """Registered with the events app: called after each commit that recorded events."""
    if evaluate_events.app.conf.task_always_eager:
        _send_wake_up()  # embedded mode and tests: evaluate now, in the committing thread
        return
    _start_waker()
    _wake_up_wanted.set()


def _send_wake_up() -> None:
    # Expiring: with no worker consuming, stale wake-ups must not pile up (the periodic pass
    # evaluates every unhandled event anyway).
    evaluate_events.apply_async(expires=DISPATCH_EXPIRES_SECONDS)


# One task evaluates every unhandled event, so a burst of commits (a run-creation flood, a
# batch of state changes) needs one wake-up, not one broker message per commit: commits set
# a flag, and a thread sends one task per short window. A commit after the flag is cleared
# sets it again, so no event waits for the periodic pass.
WAKE_UP_WINDOW_SECONDS = 0.1
_wake_up_wanted = threading.Event()
_waker_lock = threading.Lock()
_waker: threading.Thread | None = None


def _start_waker() -> None:
    global _waker
    with _waker_lock:
        if _waker is None or not _waker.is_alive():
            _waker = threading.Thread(target=_wake_workers_forever, name="tether-automations-waker", daemon=True)
            _waker.start()


def _wake_workers_forever() -> None:
    while True:
        _wake_up_wanted.wait()
        time.sleep(WAKE_UP_WINDOW_SECONDS)
        _wake_up_wanted.clear()
        try:
            _send_wake_up()
        except Exception:
            logger.warning("automation wake-up not sent; the periodic pass evaluates the events", exc_info=True)
