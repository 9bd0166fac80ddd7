"""The Celery app (`celery -A controlplane.celery:app worker|beat`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings.prod")

from controlplane.settings.env import load_settings_or_exit

load_settings_or_exit()

# Each task id runs once, however often Redis delivers it (controlplane/core/celery_once.py).
app = Celery("tether", task_cls="controlplane.core.celery_once:OncePerTaskId")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["controlplane.services", "controlplane.automations"])


@app.on_after_configure.connect  # type: ignore[untyped-decorator]
def _schedule_services(sender: Celery, **kwargs: object) -> None:
    from controlplane.services.runner import beat_schedule

    sender.conf.beat_schedule = beat_schedule()
