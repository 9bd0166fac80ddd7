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
