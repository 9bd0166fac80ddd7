"""`python manage.py run_services [--once]`: every periodic service in one process (the same
functions Celery beat runs in production)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from controlplane.services.runner import SERVICES, InProcessServiceRunner


class Command(BaseCommand):
    help = "Run the scheduler, late-runs, lease reaper and the other periodic services until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run each service once and exit")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        if once:
            for service in SERVICES:
                result = service.tick()
                self.stdout.write(f"{service.name}: {result}")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        runner = InProcessServiceRunner(SERVICES)
        runner.start()
        self.stdout.write(f"Running {len(SERVICES)} services: {', '.join(s.name for s in SERVICES)} (Ctrl-C stops)")
        stop.wait()
        runner.stop()
