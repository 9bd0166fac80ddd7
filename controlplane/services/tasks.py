"""Celery tasks: thin wrappers that run a periodic service's tick by name (production)."""

from __future__ import annotations

from celery import shared_task

from controlplane.services.runner import service_named


@shared_task(name="tether.services.run", acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def run_service(name: str) -> None:
    """Every tick is idempotent and safe on several workers at once, so a redelivered task is harmless.

    Celery's Django fix-up closes stale database connections around each task.
    """
    service_named(name).tick()
