"""The Celery app (`celery -A controlplane.celery:app worker|beat`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings.prod")

from controlplane.settings.env import load_settings_or_exit

load_settings_or_exit()

app = Celery("tether")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
